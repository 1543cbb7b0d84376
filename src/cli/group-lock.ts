/**
 * The one place the CLI takes a group's lock (clusterdir/lock.ts): before the action of every
 * command that changes a group, held until the command ends. A second one is refused with the
 * holder's name (exit 2), whether it comes from a terminal or from the web console's jobs.
 * A directory that is not a cluster directory (yet) is left to the command to refuse or create.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { acquireGroupLock, type GroupLock } from '../clusterdir/lock.ts';
import { CONFIG_FILE } from '../clusterdir/index.ts';

/** the commands that change a group: its machines, its hosts, or its config.yml */
export const LOCKING_COMMANDS = new Set([
  'configure',
  'provision',
  'deploy',
  'deprovision',
  'switchover',
  'rejoin',
  'rebuild',
  'backup',
  'restore',
  'add-replica',
  'remove-node',
  'add-cluster',
  'remove-cluster',
  'fork',
  'resize',
  'upgrade',
]);

export function takeGroupLockBeforeActions(program: Command): void {
  let held: GroupLock | undefined;
  const release = () => {
    held?.release();
    held = undefined;
  };
  program.hook('preAction', (_program, action) => {
    const dir = action.args[0];
    if (!LOCKING_COMMANDS.has(action.name()) || dir === undefined) return;
    if (!existsSync(join(dir, CONFIG_FILE))) return;
    held = acquireGroupLock(dir, ['tpa', action.name(), ...action.args].join(' '));
    process.once('exit', release);
  });
  program.hook('postAction', release);
}
