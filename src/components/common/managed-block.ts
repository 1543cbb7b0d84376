/**
 * A block of lines tpa owns inside a file it does not own (/etc/hosts, authorized_keys):
 * between a BEGIN and an END marker line, replaced as a whole, the rest of the file kept.
 */
import { sh } from '../../core/shell.ts';
import type { HostFacts, Resource } from '../../plan/types.ts';

export interface BlockFile {
  /** a shell expression for the path, e.g. quote('/etc/hosts') or "\"$(getent ...)/.ssh/x\"" */
  pathShell: string;
  begin: string;
  end: string;
  /** mode/owner/group used when the file (and its directory) must be created */
  mode: number;
  owner: string;
  group: string;
  dirMode?: number;
}

export function blockText(f: Pick<BlockFile, 'begin' | 'end'>, lines: string[]): string {
  return [f.begin, ...lines, f.end].join('\n') + '\n';
}

/**
 * sh script: the new block arrives on stdin; an existing block is replaced in place, else the
 * block is appended. The file is rewritten in place (`cat >`), keeping its inode, owner and
 * mode: /etc/hosts may be a bind mount.
 */
export function writeBlockCommand(f: BlockFile): string {
  const mode = f.mode.toString(8);
  const dirMode = (f.dirMode ?? 0o755).toString(8);
  const awk = [
    'function emit(  l) { while ((getline l < nf) > 0) print l; close(nf); done = 1 }',
    '$0 == b { skip = 1; if (!done) emit(); next }',
    'skip { if ($0 == e) skip = 0; next }',
    '{ print }',
    'END { if (!done) emit() }',
  ].join('\n');
  return [
    'set -eu',
    `f=${f.pathShell}`,
    'new=$(mktemp); trap \'rm -f "$new" "$new.out"\' EXIT',
    'cat > "$new"',
    sh`if [ ! -e "$f" ]; then install -d -m ${dirMode} -o ${f.owner} -g ${f.group} "$(dirname "$f")"; ` +
      sh`install -m ${mode} -o ${f.owner} -g ${f.group} /dev/null "$f"; fi`,
    sh`awk -v b=${f.begin} -v e=${f.end} -v nf="$new" ${awk} "$f" > "$new.out"`,
    'cat "$new.out" > "$f"',
  ].join('\n');
}

/** A probe printing the file (empty when it does not exist). */
export function catProbe(pathShell: string): string {
  return `f=${pathShell}; if [ -f "$f" ]; then cat "$f"; fi`;
}

/** Lines of a probed file, trimmed, without blanks and comments. */
export function probedLines(facts: HostFacts, probe: string): string[] {
  return (facts.probes[probe] ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The lines inside the block of a probed file; undefined when the file has no block. */
export function probedBlock(
  facts: HostFacts,
  probe: string,
  f: Pick<BlockFile, 'begin' | 'end'>,
): string[] | undefined {
  const lines = (facts.probes[probe] ?? '').split('\n');
  const start = lines.indexOf(f.begin);
  if (start < 0) return undefined;
  const end = lines.indexOf(f.end, start + 1);
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export function blockAction(opts: {
  id: string;
  description: string;
  file: BlockFile;
  lines: string[];
  needed: (facts: HostFacts) => boolean;
}): Resource {
  return {
    kind: 'action',
    id: opts.id,
    description: opts.description,
    command: writeBlockCommand(opts.file),
    stdin: blockText(opts.file, opts.lines),
    needed: opts.needed,
  };
}
