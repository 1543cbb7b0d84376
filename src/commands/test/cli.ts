/** tpa test DIR: prove the cluster works; a table of named checks, exit 1 when one fails. */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { UsageError } from '../../core/errors.ts';
import { CHECKS, DEFAULT_THRESHOLDS, type CheckResult } from '../../checks/evaluate.ts';
import { testCluster, type TestReport } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

const mark = { pass: c.green('pass'), fail: c.red('FAIL'), skip: c.dim('skip') };

/** The result table: one row per check and node, in the order of CHECKS. */
export function renderTestTable(report: TestReport): string {
  const order = new Map(CHECKS.map((x, i) => [x.id, i]));
  const title = new Map(CHECKS.map((x) => [x.id, x.title]));
  const rows = [...report.results].sort(
    (a, b) => a.cluster.localeCompare(b.cluster) || (order.get(a.check) ?? 99) - (order.get(b.check) ?? 99),
  );
  const clusters = new Set(rows.map((r) => r.cluster));
  const table = new Table({
    head: ['check', ...(clusters.size > 1 ? ['cluster'] : []), 'node', 'result', 'detail'],
    style: { head: [], border: [], compact: true },
    wordWrap: true,
  });
  let previous = '';
  for (const r of rows) {
    const name = r.check === previous ? '' : `${r.check}${c.dim(` — ${title.get(r.check) ?? ''}`)}`;
    previous = r.check;
    table.push([name, ...(clusters.size > 1 ? [r.cluster] : []), r.node ?? '-', mark[r.status], r.detail]);
  }
  return `${table.toString()}\n${verdictLine(report)}\n`;
}

/** `27 passed, 2 not checked`: what was not checked is never folded into the passes */
export function verdictLine(report: TestReport): string {
  const s = report.summary;
  const counts = [
    ...(s.fail ? [`${s.fail} failed`] : []),
    `${s.pass} passed`,
    ...(s.skip ? [`${s.skip} not checked`] : []),
  ].join(', ');
  const seconds = `${(report.durationMs / 1000).toFixed(1)} s`;
  if (report.ok)
    return (
      c.green(`ok: ${counts} in ${seconds}`) +
      (s.skip ? c.dim(' (not checked allowed by --allow-skips)') : '')
    );
  const lines = [c.red(`${s.fail ? 'FAILED' : 'NOT PROVEN'}: ${counts} in ${seconds}`)];
  if (s.fail) lines.push(`failed: ${names(report.results, 'fail').join(', ')}`);
  if (s.skip)
    lines.push(
      `not checked: ${names(report.results, 'skip').join(', ')}${s.fail ? '' : ' (--allow-skips accepts that)'}`,
    );
  return lines.join('\n');
}

function names(results: CheckResult[], status: CheckResult['status']): string[] {
  return results.filter((r) => r.status === status).map((r) => (r.node ? `${r.check} (${r.node})` : r.check));
}

function positiveNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number from 0, not ${v}`);
    return n;
  };
}

/**
 * Ctrl-C (or SIGTERM) during a restore drill: the first stops the drill, which then removes its
 * temporary cluster; a second stops at once and says what may be left.
 */
function interruptible(dir: string) {
  const controller = new AbortController();
  let temporary: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      process.stderr.write(
        `\n${signal}: stopping the restore drill; its temporary cluster is being removed (again to stop at once)\n`,
      );
      controller.abort();
      return;
    }
    process.stderr.write(
      temporary
        ? `\nstopped: cluster ${temporary} may be left in ${dir}/config.yml with its machine: ` +
            `delete it from the clusters list, then run tpa provision ${dir}\n`
        : `\nstopped: run tpa provision ${dir} to remove any machine no longer in config.yml\n`,
    );
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    onTemporary: (name: string | undefined) => {
      temporary = name;
    },
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('test')
    .description('prove that a deployed cluster works: replication, failover manager, pooler, TLS')
    .argument('<dir>', 'cluster directory')
    .option('--json', 'the report as one JSON document on stdout')
    .option(
      '--max-lag-bytes <n>',
      `largest replication lag allowed, bytes of WAL (default ${DEFAULT_THRESHOLDS.maxLagBytes})`,
      positiveNumber('--max-lag-bytes'),
    )
    .option(
      '--max-lag-seconds <n>',
      `largest replay lag allowed, seconds (default ${DEFAULT_THRESHOLDS.maxLagSeconds})`,
      positiveNumber('--max-lag-seconds'),
    )
    .option(
      '--replication-timeout <s>',
      'seconds every replica gets to show the marker rows (default 30)',
      positiveNumber('--replication-timeout'),
    )
    .option(
      '--restore-drill',
      'then restore the latest backup of each backed-up cluster into a temporary cluster, verify it, remove it',
    )
    .option(
      '--cluster <name>',
      'with --restore-drill: drill only this cluster (repeatable)',
      (v: string, list: string[] = []) => [...list, v],
    )
    .option(
      '--allow-skips',
      'exit 0 even when some checks could not run (they are still reported as not checked)',
    )
    .addHelpText(
      'after',
      `
Checks, all nodes at once (two round trips per node):
${CHECKS.map((x) => `  ${x.id.padEnd(24)} ${x.title}`).join('\n')}

A marker row is written on the primary and through every pgbouncer (table
tpa_test.markers of database postgres; rows older than a day are removed) and must appear on
every replica. Client checks run on each node against its own pgbouncer (6432) and postgres
(5432) over TCP, with the superuser's password from the vault in psql's environment.
Without a pooler (pooler: none) the client checks run against postgres alone. A refusal
counts only when the same client gets in with TLS and the right password, so "TLS required"
means refused for being plain text and "wrong password refused" means refused by password
authentication (not, say, by the client's address missing from access.client_cidrs).
A check that cannot be judged (a node unreachable, another check failed, the node itself
not an allowed client) is shown as skip and counted as "not checked", never as passed.
Exit code 0 when every check passes, 1 when any fails or any could not be checked
(--allow-skips accepts checks that could not run).

--restore-drill: a backup is not trusted until it has been restored. After the checks, for
each backed-up cluster in turn: a marker row is written on its primary (tpa_test.markers) and
archived by barman; a temporary cluster <cluster>-drill-<4 hex> of one node (no failover
manager, pooler or backups of its own) is added to config.yml and provisioned; barman
recovers the latest backup with every archived WAL file into it; the marker row must be
there, and pg_checksums --check must find every data page intact. The temporary cluster is
then always removed again, also on failure or Ctrl-C (config.yml ends byte-identical to
before; both changes are commits). One row restore-drill per cluster. Nothing of the source
cluster changes but the marker row. Takes minutes: a machine is provisioned and PostgreSQL
installed on it. A second Ctrl-C stops at once and says what may be left.

Examples:
  $ tpa test acme
  $ tpa test acme --json | jq '.results[] | select(.status == "fail")'
  $ tpa test acme --max-lag-seconds 5 --replication-timeout 10
  $ tpa test acme --restore-drill
  $ tpa test acme --restore-drill --cluster reports --json | jq '.results[] | select(.check == "restore-drill")'
`,
    )
    .action(
      async (
        dir: string,
        opts: {
          json?: boolean;
          maxLagBytes?: number;
          maxLagSeconds?: number;
          replicationTimeout?: number;
          restoreDrill?: boolean;
          cluster?: string[];
          allowSkips?: boolean;
        },
      ) => {
        const json = opts.json === true;
        const drill = opts.restoreDrill === true ? interruptible(dir) : undefined;
        try {
          if (opts.cluster !== undefined && !drill)
            throw new UsageError('--cluster chooses the clusters of --restore-drill: add --restore-drill');
          const report = await testCluster(dir, {
            // progress on stderr; with --json stdout holds the report alone
            ...(json ? {} : { events: eventSink(false) }),
            thresholds: {
              ...(opts.maxLagBytes !== undefined ? { maxLagBytes: opts.maxLagBytes } : {}),
              ...(opts.maxLagSeconds !== undefined ? { maxLagSeconds: opts.maxLagSeconds } : {}),
            },
            allowSkips: opts.allowSkips === true,
            ...(opts.replicationTimeout !== undefined
              ? { replicationTimeoutMs: opts.replicationTimeout * 1000 }
              : {}),
            ...(drill
              ? {
                  restoreDrill: {
                    signal: drill.signal,
                    onTemporary: drill.onTemporary,
                    ...(opts.cluster ? { clusters: opts.cluster } : {}),
                  },
                }
              : {}),
          });
          if (json) printJson(report);
          else process.stdout.write(renderTestTable(report));
          setExit(report.ok ? 0 : 1);
        } catch (err) {
          setExit(reportError(err, json));
        } finally {
          drill?.release();
        }
      },
    );
};
