/**
 * Native systemd units tpa writes (repmgrd, the pgbouncer follower): after a unit file
 * changes, systemd must re-read it before the unit is started or restarted.
 */
import { sha256 } from '../plan/diff.ts';
import type { Resource } from '../plan/types.ts';

/**
 * `systemctl daemon-reload` when a unit file written earlier in the same phase differs from
 * the one that was on the host (facts are gathered at the start of each phase), so the
 * service and handler steps that follow run the new unit. One reload for all the files of a
 * phase: a reload costs seconds in a container.
 */
export function systemdReload(...units: { file: string; content: string }[]): Resource {
  const wanted = units.map((u) => ({ file: u.file, sha: sha256(u.content) }));
  const names = units.map((u) => u.file.slice(u.file.lastIndexOf('/') + 1));
  return {
    kind: 'action',
    id: `systemd-daemon-reload ${units.map((u) => u.file).join(' ')}`,
    description: `systemctl daemon-reload (${names.join(', ')} changed)`,
    command: 'systemctl daemon-reload',
    needed: (f) => wanted.some((w) => f.files[w.file]?.sha256 !== w.sha),
  };
}
