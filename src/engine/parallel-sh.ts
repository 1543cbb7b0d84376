/**
 * Shell that runs independent snippets at once and prints their output in order. Facts and
 * health checks are many small reads (psql, systemctl, sha256sum) that mostly wait on process
 * start-up; one after another they cost seconds per host, side by side a fraction. Each
 * snippet writes to its own file in a private temporary directory, so outputs never interleave.
 * Pure.
 */
export function parallelSnippets(snippets: string[]): string[] {
  if (snippets.length === 0) return [];
  return [
    // mktemp -d makes a 0700 directory of the login user (root, through sudo)
    'T=$(mktemp -d "${TMPDIR:-/tmp}/tpa.XXXXXXXX") || exit 1',
    ...snippets.map((s, i) => `{\n${s}\n} > "$T/${i}" &`),
    'wait',
    `i=0; while [ "$i" -lt ${snippets.length} ]; do cat "$T/$i"; i=$((i+1)); done`,
    'rm -rf "$T"',
  ];
}
