/** tpa status DIR: a live table of the cluster's nodes, like `patronictl list`. */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { formatBytes } from '../../checks/cluster-view.ts';
import { lastBackupText, scheduleText, type ClusterBackups } from '../../components/barman/overview.ts';
import { clusterStatus, type StatusReport, type StatusRow } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

function lag(r: StatusRow): string {
  if (r.role !== 'replica') return '';
  const parts = [
    r.lagBytes !== undefined ? formatBytes(r.lagBytes) : undefined,
    r.lagSeconds !== undefined ? `${r.lagSeconds.toFixed(1)} s` : undefined,
  ].filter((x) => x !== undefined);
  return parts.length ? parts.join(', ') : '?';
}

function state(r: StatusRow): string {
  if (r.state === 'running') return c.green('running');
  if (r.state === 'stopped') return c.red(r.fenced ? 'stopped (fenced)' : 'stopped');
  return c.red('unreachable');
}

function role(r: StatusRow): string {
  if (r.role === 'unknown') return c.dim('-');
  const moved = r.role !== r.configuredRole;
  const text = r.role === 'primary' ? c.bold('primary') : 'replica';
  return moved ? `${text} ${c.yellow(`(config: ${r.configuredRole})`)}` : text;
}

function backupCounts(b: ClusterBackups): string | undefined {
  const n = b.now?.backups;
  if (n === undefined) return undefined;
  const obsolete = b.now?.obsolete ? ` (${b.now.obsolete} obsolete by the retention policy)` : '';
  return `${n} backup${n === 1 ? '' : 's'}${obsolete}`;
}

/** one line per cluster with backups, then what differs from config.yml */
export function renderBackupLines(report: StatusReport, now: Date = new Date()): string[] {
  const out: string[] = [];
  for (const b of report.backups ?? []) {
    const where = b.server ? ` on ${b.server}` : '';
    const state =
      b.unreachable !== undefined
        ? c.red(`backup server did not answer: ${b.unreachable.split('\n')[0]}`)
        : b.now
          ? [lastBackupText(b.now), backupCounts(b)].filter((x) => x !== undefined).join(', ')
          : undefined;
    const parts = [
      state,
      `schedule ${b.schedule.cron} (${scheduleText(b.schedule, now)})`,
      `retention ${b.retention}`,
    ].filter((x) => x !== undefined);
    out.push(`${c.bold(`backups ${b.cluster}`)}${where}: ${parts.join('; ')}`);
    for (const e of b.now?.errors ?? []) out.push(`  ${c.red(e.split('\n')[0] ?? '')}`);
    for (const d of b.differences) out.push(`  ${c.yellow(d)}`);
  }
  for (const l of report.backupLeftovers ?? []) {
    out.push(
      c.yellow(
        `${l.host} still has barman server ${l.server} (no cluster uses it there): tpa deploy retires it; its backups stay in ${l.path}`,
      ),
    );
  }
  return out;
}

export function renderStatusTable(report: StatusReport): string {
  const clusters = new Set(report.nodes.map((n) => n.cluster));
  const table = new Table({
    head: [
      ...(clusters.size > 1 ? ['cluster'] : []),
      'node',
      'address',
      'role',
      'state',
      'upstream',
      'lag',
      'TL',
      'version',
      'pgbouncer ->',
    ],
    style: { head: [], border: [], compact: true },
  });
  for (const r of report.nodes) {
    const bouncer =
      r.pgbouncer === undefined
        ? ''
        : r.pgbouncer !== 'active'
          ? c.red(r.pgbouncer)
          : (r.pgbouncerTarget ?? '?');
    table.push([
      ...(clusters.size > 1 ? [r.cluster] : []),
      r.node,
      r.address,
      role(r),
      state(r),
      r.upstream ?? (r.role === 'replica' ? c.red('none') : ''),
      lag(r),
      r.timeline !== undefined ? String(r.timeline) : '',
      r.version ?? '',
      bouncer,
    ]);
  }
  const notes = report.nodes
    .filter((r) => r.detail)
    .map((r) => c.dim(`${r.node}: ${r.detail!.split('\n')[0]}`));
  return [table.toString(), ...notes, ...renderBackupLines(report)].join('\n') + '\n';
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('status')
    .description("the cluster's nodes as they are now: role, state, upstream, lag, timeline, pooler target")
    .argument('<dir>', 'cluster directory')
    .option('--json', 'the rows as JSON')
    .addHelpText(
      'after',
      `
Asks every node at once (one round trip each) and shows what the servers say, not what
config.yml says: after a failover the promoted node shows as primary, with "(config:
replica)" beside it. lag is WAL not yet replayed (bytes behind the primary) and the replay
lag the upstream reports; "pgbouncer ->" is the node the node's pgbouncer sends clients to.
A node "stopped (fenced)" is a former primary that came back after a failover: its start
guard refused to start it as a second primary; the note under the table says how to rejoin it.
Changes nothing. Exit code 0 whatever state the nodes are in (use tpa test to judge them).

Examples:
  $ tpa status acme
  $ watch -n 2 tpa status acme
  $ tpa status acme --json | jq -r '.primaries.main'
  $ tpa status acme --json | jq '.backups[] | {cluster, last: .now.last, backups: .now.backups}'
`,
    )
    .action(async (dir: string, opts: { json?: boolean }) => {
      const json = opts.json === true;
      try {
        const report = await clusterStatus(dir, json ? {} : { events: eventSink(false) });
        if (json) printJson(report);
        else process.stdout.write(renderStatusTable(report));
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
