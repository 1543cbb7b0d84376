/** tpa backup DIR [--cluster C]: a full backup now, waited for until it can be restored. */
import type { Command } from 'commander';
import { formatBytes } from '../../checks/cluster-view.ts';
import { eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('backup')
    .description('take a full backup now (barman), for one cluster or every cluster with backups')
    .argument('<dir>', 'cluster directory (deployed, backup.mode shared or exclusive)')
    .option('--cluster <name>', 'only this cluster (default: every cluster with backups)')
    .option('--json', 'progress as JSON lines, then the result as the last line')
    .addHelpText(
      'after',
      `
The backup runs on the cluster's barman host (pg_basebackup from the current primary) and
tpa waits until the WAL it needs is archived, so a backup reported here can be restored.
Scheduled backups (backup.schedule) run on their own; this is for one more, e.g. before an
upgrade. When the backup server cannot be reached the command fails naming it (exit 1); WAL
streaming catches up through its replication slot when the server is back.

Examples:
  $ tpa backup acme
  $ tpa backup acme --cluster reports --json | tail -1 | jq '.backups[0].backup.id'
  $ tpa backups acme       # list what there is
`,
    )
    .action(async (dir: string, opts: { cluster?: string; json?: boolean }) => {
      const json = opts.json === true;
      try {
        const { backup } = await import('./index.ts');
        const out = await backup({
          dir,
          events: eventSink(json),
          ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
        });
        if (json) printJson(out);
        else {
          for (const b of out.backups) {
            const size = b.backup.sizeWithWalsBytes ?? b.backup.sizeBytes;
            process.stdout.write(
              `${b.cluster}: backup ${b.backup.id} on ${b.server}, ${size !== undefined ? formatBytes(size) : '?'}, ` +
                `WAL ${b.backup.beginWal ?? '?'}..${b.backup.endWal ?? '?'} (${(b.durationMs / 1000).toFixed(1)} s)\n`,
            );
          }
        }
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
