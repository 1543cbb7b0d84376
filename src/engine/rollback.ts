/**
 * What a failed restart puts back. Every file a deploy changes is remembered as it was (the
 * facts carry the old content of a changed file that is not secret); when a unit does not
 * start again with its new configuration, the engine restores the files that notified that
 * unit on that host and starts it with what it ran before, and the hosts it did not restart
 * yet get their files back too: a bad value never waits on disk for the next reboot.
 */
import type { Change, HostFacts } from '../plan/types.ts';
import type { Transport } from '../transport/transport.ts';
import { sh } from '../core/shell.ts';
import { handlerUnit } from './commands.ts';

export interface FileBefore {
  path: string;
  /** the units whose handlers the change notified */
  units: string[];
  /** what it held; null: it did not exist; undefined: not known (a secret is never read back) */
  content: string | null | undefined;
  mode: number;
  owner: string;
  group: string;
}

/** the file of a change as the facts saw it before the change; undefined for other resources */
export function fileBefore(c: Change, facts: HostFacts | undefined): FileBefore | undefined {
  const r = c.resource;
  if (r.kind !== 'file') return undefined;
  const was = facts?.files[r.path];
  return {
    path: r.path,
    units: [...new Set([...(c.notify ?? []).map(handlerUnit), ...(r.configures ? [r.configures] : [])])],
    content: was ? was.content : null,
    mode: was?.mode ?? r.mode,
    owner: was?.owner ?? r.owner,
    group: was?.group ?? r.group,
  };
}

/** the first state seen of each file that notified `unit` (a file changed twice keeps its oldest) */
export function filesOfUnit(files: readonly FileBefore[], unit: string): FileBefore[] {
  const seen = new Map<string, FileBefore>();
  for (const f of files) if (f.units.includes(unit) && !seen.has(f.path)) seen.set(f.path, f);
  return [...seen.values()];
}

/**
 * Puts the files back on the host; returns the paths it could not restore (content not
 * known), which the error then names.
 */
export async function restoreFiles(t: Transport, files: readonly FileBefore[]): Promise<string[]> {
  const unknown: string[] = [];
  for (const f of files) {
    if (f.content === undefined) unknown.push(f.path);
    else if (f.content === null)
      await t.exec(sh`rm -f -- ${f.path}`, { sudo: true, step: `remove ${f.path}` });
    else await t.upload(f.path, f.content, { mode: f.mode, owner: f.owner, group: f.group, sudo: true });
  }
  return unknown;
}
