/**
 * Native systemd units tpa writes (repmgrd, the pgbouncer follower): after a unit file
 * changes, systemd must re-read it before the unit is started or restarted.
 */
import { sha256 } from '../plan/diff.ts';
import type { Resource } from '../plan/types.ts';

/**
 * `systemctl daemon-reload` when a unit file written earlier in the same phase differs from
 * the one that was on the host (facts are gathered at the start of each phase), so the
 * service and handler steps that follow run the new unit.
 */
export function systemdReload(unitFile: string, content: string): Resource {
  const want = sha256(content);
  return {
    kind: 'action',
    id: `systemd-daemon-reload ${unitFile}`,
    description: `systemctl daemon-reload (${unitFile.slice(unitFile.lastIndexOf('/') + 1)} changed)`,
    command: 'systemctl daemon-reload',
    needed: (f) => f.files[unitFile]?.sha256 !== want,
  };
}
