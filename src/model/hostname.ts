/** Host name syntax (RFC 1123). Node, service, cluster and group names become host and container names. */

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** One lowercase RFC 1123 label: 1-63 of a-z, 0-9 and '-', not starting or ending with '-'. */
export function isValidLabel(name: string): boolean {
  return LABEL.test(name);
}

/** A dotted host name (each part a label, case-insensitive), at most 253 characters. */
export function isValidHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name
    .toLowerCase()
    .replace(/\.$/, '')
    .split('.')
    .every((part) => LABEL.test(part));
}

/** Why a name is not a valid label, in words a user can act on. */
export function labelProblem(name: string): string {
  if (name.length === 0) return 'is empty';
  if (name.length > 63) return `is ${name.length} characters long (at most 63)`;
  if (/[A-Z]/.test(name)) return 'has uppercase letters; host names here are lowercase';
  if (/^-|-$/.test(name)) return 'starts or ends with "-"';
  const bad = name.match(/[^a-z0-9-]/);
  if (bad) return `contains "${bad[0]}" (only a-z, 0-9 and "-" are allowed)`;
  return 'is not a valid host name';
}

/** A suggestion derived from an invalid name: lowercased, other characters turned into '-'. */
export function suggestLabel(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return s || 'tpa';
}
