/** tpa remove-node DIR NODE: a replica leaves its cluster, and its machine goes. */
import type { Command } from 'commander';
import { removeNodeOperation } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import { askOnTerminal } from '../../cli/confirm.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('remove-node')
    .description('take a replica out of its cluster and destroy its machine')
    .argument('<dir>', 'cluster directory')
    .argument('<node>', 'the replica to remove')
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Refused (exit 2, nothing changed) for the primary (switch over first), for an unknown node, and
when a durability: sync cluster would be left without a standby. Replicas that stream from the
node follow its upstream first; the failover manager forgets it, its replication slot is
dropped, config.yml loses it (a commit), provision destroys its machine and deploy updates the
other nodes (reloads only). Its machine may be down: it is removed all the same.

Example:
  $ tpa remove-node acme main-4 --yes
`,
    )
    .action(async (dir: string, node: string, opts: { yes?: boolean; json?: boolean }) => {
      const json = opts.json === true;
      try {
        const out = await removeNodeOperation({
          dir,
          node,
          events: eventSink(json),
          yes: opts.yes === true,
          ...(process.stdin.isTTY && !json ? { confirm: askOnTerminal } : {}),
        });
        if (json) printJson({ ok: true, ...out });
        else
          process.stderr.write(
            c.green(
              `${out.node} is removed from cluster ${out.cluster} in ${(out.durationMs / 1000).toFixed(1)} s${out.children.length ? `; ${out.children.join(', ')} stream${out.children.length === 1 ? 's' : ''} from ${out.followTarget}` : ''}${out.commit ? `; config.yml: commit ${out.commit.slice(0, 7)}` : ''}\n`,
            ),
          );
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
