/** tpa ssh DIR NODE [-- CMD...]: a shell on a node, or one command, with the cluster's key. */
import type { Command } from 'commander';
import { runSsh } from './index.ts';
import { reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('ssh')
    .description("open a shell on a node (or run one command) with the cluster's key and known_hosts")
    .argument('<dir>', 'cluster directory (provisioned)')
    .argument('<node>', 'node name, as in inventory.json')
    .argument('[command...]', 'a command to run instead of a shell (put it after --)')
    .addHelpText(
      'after',
      `
Runs the system's ssh client with the cluster's private key (-i, a 0600 file outside DIR),
DIR/known_hosts and StrictHostKeyChecking=yes, as the host's login user. Without a command it
opens an interactive shell; with one it runs it and exits with its exit code (255 when ssh
itself failed, e.g. a changed host key or an unreachable node).

Examples:
  $ tpa ssh acme main-1
  $ tpa ssh acme main-2 -- systemctl status postgresql@15-main
  $ tpa ssh acme main-1 -- sudo -u postgres psql -c 'select pg_is_in_recovery()'
`,
    )
    .action(async (dir: string, node: string, command: string[]) => {
      try {
        setExit(await runSsh(dir, node, command));
      } catch (err) {
        setExit(reportError(err, false));
      }
    });
};
