/** tpa backups DIR: the backups barman keeps, per cluster. */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { formatBytes } from '../../checks/cluster-view.ts';
import type { BackupsReport } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

/** barman prints times with microseconds and an offset: seconds are enough here */
function shortTime(t: string | undefined): string {
  if (!t) return '';
  return t.replace(/\.\d+/, '');
}

export function renderBackupsTable(report: BackupsReport): string {
  const out: string[] = [];
  for (const cl of report.clusters) {
    out.push(c.bold(`${cl.cluster}`) + c.dim(` (barman on ${cl.server})`));
    if (cl.backups.length === 0) {
      out.push(c.yellow('  no backups'));
      continue;
    }
    const table = new Table({
      head: ['id', 'begin', 'end', 'size', 'WAL after', 'TL', 'WAL range', 'status'],
      style: { head: [], border: [], compact: true },
    });
    for (const b of cl.backups) {
      table.push([
        b.id,
        shortTime(b.beginTime),
        shortTime(b.endTime),
        b.sizeBytes !== undefined ? formatBytes(b.sizeBytes) : '',
        b.walSizeBytes !== undefined ? formatBytes(b.walSizeBytes) : '',
        b.timeline !== undefined ? String(b.timeline) : '',
        b.walBegin ? `${b.walBegin}..${b.walEnd ?? ''}` : '',
        b.status === 'DONE' ? c.green(b.status) : c.red(`${b.status}${b.error ? `: ${b.error}` : ''}`),
      ]);
    }
    out.push(table.toString());
  }
  return out.join('\n') + '\n';
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('backups')
    .description('list the backups barman keeps: id, begin/end time, size, WAL range, status')
    .argument('<dir>', 'cluster directory')
    .option('--cluster <name>', 'only this cluster')
    .option('--json', 'the list as JSON')
    .addHelpText(
      'after',
      `
Read from the barman host(s) with barman's JSON output (list-backups and show-backup).
"size" is the base backup with the WAL it needs; "WAL after" is the WAL archived after it,
which point-in-time recovery replays; "WAL range" runs from the first WAL file the backup
needs to the last one archived for it.

Examples:
  $ tpa backups acme
  $ tpa backups acme --cluster main --json | jq '.clusters[0].backups[-1].id'
`,
    )
    .action(async (dir: string, opts: { cluster?: string; json?: boolean }) => {
      const json = opts.json === true;
      try {
        const { listBackups } = await import('./index.ts');
        const out = await listBackups({
          dir,
          ...(json ? {} : { events: eventSink(false) }),
          ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
        });
        if (json) printJson(out);
        else process.stdout.write(renderBackupsTable(out));
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
