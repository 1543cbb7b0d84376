/**
 * Masks secrets in text that goes to a terminal, a log or an error message (command output,
 * stderr of a failed command). Used by transports and error reporting.
 */

export const REDACTED = '***';
/** shorter strings would mask ordinary words and numbers, and protect nothing worth protecting */
export const MIN_SECRET_LENGTH = 6;
/** lines of a multi-line secret (a private key) are masked one by one from this length */
const MIN_LINE_LENGTH = 16;

/**
 * A function replacing every occurrence of any of `secrets` with `***`. A multi-line secret
 * such as a private key is also masked line by line, because output is often cut into lines.
 */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (s.length >= MIN_SECRET_LENGTH) needles.add(s);
    if (s.includes('\n')) {
      for (const line of s.split(/\r?\n/)) {
        const t = line.trim();
        if (t.length >= MIN_LINE_LENGTH && !t.startsWith('-----')) needles.add(t);
      }
    }
  }
  // longest first, so that a secret containing another is masked whole
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const needle of ordered) {
      if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    }
    return out;
  };
}
