/**
 * Debian package versions of one distribution's PostgreSQL minors (15.18-0+deb12u1): the
 * release they carry and their order. Not dpkg's whole algorithm (epochs, ~), which the
 * versions tpa pins do not use.
 */

/** "15.20" from "15.20-0+deb12u1" */
export function upstreamVersion(debian: string): string {
  return debian.replace(/^\d+:/, '').split('-')[0]!;
}

/** a.b.c numerically, then the Debian revision as text */
export function compareVersions(a: string, b: string): number {
  const num = (v: string) => upstreamVersion(v).split('.').map(Number);
  const [x, y] = [num(a), num(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  const rev = (v: string) => v.slice(v.indexOf('-') + 1);
  return a.includes('-') && b.includes('-') ? Math.sign(rev(a).localeCompare(rev(b))) : 0;
}
