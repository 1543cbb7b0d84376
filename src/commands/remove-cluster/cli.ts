/** tpa remove-cluster DIR NAME: a cluster leaves the group; its machines go, its backups stay. */
import type { Command } from 'commander';
import { removeClusterOperation } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import { askOnTerminal } from '../../cli/confirm.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('remove-cluster')
    .description('remove a cluster from the group: its machines go, its backups stay')
    .argument('<dir>', 'cluster directory')
    .argument('<name>', 'the cluster to remove')
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Refused (exit 2, nothing changed) for an unknown cluster and for the group's only cluster.
config.yml loses the cluster (a commit), provision destroys its machines, deploy retires it on
its backup server, where its backups stay.

Example:
  $ tpa remove-cluster acme reports --yes
`,
    )
    .action(async (dir: string, name: string, opts: { yes?: boolean; json?: boolean }) => {
      const json = opts.json === true;
      try {
        const out = await removeClusterOperation({
          dir,
          name,
          events: eventSink(json),
          yes: opts.yes === true,
          ...(process.stdin.isTTY && !json ? { confirm: askOnTerminal } : {}),
        });
        if (json) printJson({ ok: true, ...out });
        else
          process.stderr.write(
            c.green(
              `cluster ${out.cluster} is removed (${out.nodes.join(', ')}) in ${(out.durationMs / 1000).toFixed(1)} s${out.backupServer ? `; its backups stay on ${out.backupServer}` : ''}${out.commit ? `; config.yml: commit ${out.commit.slice(0, 7)}` : ''}\n`,
            ),
          );
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
