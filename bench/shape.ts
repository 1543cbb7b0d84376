/**
 * Issue 11's numbers: how long the shape operations take, and what clients see during the
 * ones that restart servers. BENCH_SHAPE_RUNS fresh 3-node clusters (default 3; durability
 * sync, PostgreSQL pinned at 15.18 so that there is a newer minor to upgrade to), each:
 *   - tpa upgrade to 15.20 under the write ledger (a new connection per write through every
 *     pgbouncer): the whole command, writes that failed while it ran, acknowledged writes lost;
 *   - tpa resize of the primary to medium under the ledger (a switchover, then the restart);
 *   - tpa add-replica (a 4th node, cloned and streaming);
 *   - tpa fork of that replica into a new cluster.
 * Medians over the clusters; every cluster removed afterwards. Runs as root.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { must, tpa } from './lib/cli.ts';
import { appendResults, type BenchRow } from './lib/results.ts';
import { clusterStatus, operationDrill, type OperationDrill } from '../test/support/drill.ts';
import { readInventory, removePrefixed, tpaEnv } from '../test/support/cli.ts';

const RUNS = Math.max(1, Number(process.env.BENCH_SHAPE_RUNS ?? 3));
const FROM = '15.18-0+deb12u1';
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const secs = (x: number) => x.toFixed(1);

interface Round {
  deploy: number;
  upgrade: OperationDrill;
  resize: OperationDrill;
  addReplica: number;
  fork: number;
}

function checked(what: string, d: OperationDrill): OperationDrill {
  if (d.code !== 0) throw new Error(`${what} exited ${d.code}: ${d.stderr ?? ''}`);
  return d;
}

async function round(i: number): Promise<Round> {
  const work = await mkdtemp(join(tmpdir(), 'tpa-bench-shape-'));
  const dir = join(work, `bench-shape-${i}-${process.pid}`);
  const env = { ...process.env, ...tpaEnv(work) };
  try {
    await must(
      [
        'configure',
        dir,
        '--replicas',
        '2',
        '--backup',
        'none',
        '--durability',
        'sync',
        '--postgres-package-version',
        FROM,
      ],
      env,
    );
    await must(['provision', dir], env);
    const deploy = (await must(['deploy', dir], env)).seconds;
    const upgrade = checked('upgrade', await operationDrill('upgrade', dir, 'main', env, []));
    const primary = (await clusterStatus(dir, env)).primaries.main!;
    const resize = checked(
      'resize',
      await operationDrill('resize', dir, 'main', env, [primary, '--instance-type', 'medium']),
    );
    const add = await must(['add-replica', dir, '--name', 'main-4'], env);
    const fork = await must(['fork', dir, 'main-4', '--into', 'side'], env);
    return { deploy, upgrade, resize, addReplica: add.seconds, fork: fork.seconds };
  } finally {
    await tpa(['deprovision', dir, '--yes'], env);
    const prefix = (await readInventory(dir).catch(() => undefined))?.network?.prefix;
    if (prefix) await removePrefixed(prefix);
    await rm(work, { recursive: true, force: true });
  }
}

async function main() {
  const rounds: Round[] = [];
  for (let i = 0; i < RUNS; i++) rounds.push(await round(i));
  const ms = (d: OperationDrill) => d.durationMs / 1000;
  const under = (label: string, ds: OperationDrill[]): BenchRow[] => [
    {
      step: `${label}: the whole command, median of ${RUNS}`,
      seconds: median(ds.map(ms)),
      note: `runs: ${ds.map((d) => secs(ms(d))).join(', ')} s; longest time without an acknowledged write: ${ds.map((d) => secs(d.longestGapMs / 1000)).join(', ')} s`,
    },
    {
      step: `${label}: writes through pgbouncer that failed while it ran, and acknowledged writes lost, in ${RUNS} runs`,
      seconds: ds.reduce((n, d) => n + d.failedDuring, 0),
      unit: 'n',
      target: '0 failed, 0 lost',
      note: `lost ${ds.reduce((n, d) => n + d.lost.length, 0)} of ${ds.reduce((n, d) => n + d.acknowledged, 0)} acknowledged${ds.some((d) => d.errors.length) ? `; errors: ${[...new Set(ds.flatMap((d) => d.errors))].join(' | ')}` : ''}`,
    },
  ];
  const rows: BenchRow[] = [
    ...under(
      `upgrade of 3 nodes ${FROM} -> 15.20 (sync; standbys, a switchover, the old primary)`,
      rounds.map((r) => r.upgrade),
    ),
    ...under(
      'resize of the primary small -> medium (a switchover, then its restart as a standby)',
      rounds.map((r) => r.resize),
    ),
    {
      step: `add-replica (a 4th node: machine, clone, registration, pooler), median of ${RUNS}`,
      seconds: median(rounds.map((r) => r.addReplica)),
      note: `runs: ${rounds.map((r) => secs(r.addReplica)).join(', ')} s`,
    },
    {
      step: `fork of that replica into a new cluster, median of ${RUNS}`,
      seconds: median(rounds.map((r) => r.fork)),
      note: `runs: ${rounds.map((r) => secs(r.fork)).join(', ')} s`,
    },
    {
      step: `for scale: deploy of the 3-node cluster at ${FROM}, median of ${RUNS}`,
      seconds: median(rounds.map((r) => r.deploy)),
      note: `runs: ${rounds.map((r) => secs(r.deploy)).join(', ')} s (the stack image carries 15.20: the pinned 15.18 packages are installed over it)`,
    },
  ];
  await appendResults('shape operations: upgrade, resize, add-replica, fork', rows, [
    'Ledger: one writer per pgbouncer, each write a new TLS connection (connect_timeout 10 s, as an application would wait) inserting the next id; every acknowledged id checked on the primary of now afterwards.',
    'Each run on a fresh cluster: Debian 12 carries one newer PostgreSQL 15 minor, so an upgrade happens once per cluster.',
  ]);
}

await main();
