/**
 * `tpa switchover DIR [--to NODE]`: the primary moves to a standby without losing a write and
 * without clients seeing an error. Checked first (plan.ts), nothing changed on a refusal. Then:
 * the failover manager and every pooler pause (clients' next queries wait), the old primary
 * stops cleanly (its last WAL record, the shutdown checkpoint, reaches the standbys), the
 * target replays up to it and is promoted, every pooler points at it and resumes: the stall
 * clients see ends here. Meanwhile the manager records the new primary, the other standbys
 * follow it and the old primary rejoins as a standby (with durability sync, commits wait for
 * one of them); then the manager resumes and config.yml says who the primary is (one commit).
 * A step that fails before the promotion puts everything back: the old primary starts again
 * and stays the primary, the poolers resume on it.
 */
import type { EventSink } from '../../core/events.ts';
import { OperationError, RemoteCommandError, UsageError } from '../../core/errors.ts';
import { sh } from '../../core/shell.ts';
import { failoverManagerOf } from '../../components/failover/registry.ts';
import { poolerOf } from '../../components/pooler/registry.ts';
import { pgPathsFor } from '../../components/postgres/paths.ts';
import { psqlAsPostgres } from '../../components/postgres/psql.ts';
import { connectCluster, type ClusterAccess } from '../../clusterdir/connect.ts';
import { recordPrimaries } from '../../clusterdir/record-primary.ts';
import { clusterStatus } from '../status/index.ts';
import { bringBack, waitStreaming } from '../rejoin/index.ts';
import { LONG_TRANSACTION_S, planSwitchover, type OpenTransaction, type SwitchoverRequest } from './plan.ts';

export interface SwitchoverReport {
  cluster: string;
  from: string;
  to: string;
  /** from the poolers' pause to their resume on the new primary */
  stallMs: number;
  durationMs: number;
  /** the commit that records the new primary in config.yml */
  commit: string | null;
}

const OPEN_TRANSACTIONS_SQL =
  "SELECT pid, extract(epoch FROM now() - xact_start)::int, usename, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) " +
  "FROM pg_stat_activity WHERE backend_type = 'client backend' AND xact_start IS NOT NULL " +
  `AND pid <> pg_backend_pid() AND now() - xact_start > interval '${LONG_TRANSACTION_S} seconds'`;

function parseTransactions(out: string): OpenTransaction[] {
  return out
    .split('\n')
    .filter((l) => l.includes('|'))
    .map((l) => {
      const [pid, seconds, user, ...q] = l.split('|');
      return { pid: Number(pid), seconds: Number(seconds), user: user ?? '', query: q.join('|') };
    });
}

export async function switchover(
  req: SwitchoverRequest & { dir: string; events: EventSink },
): Promise<SwitchoverReport> {
  const started = Date.now();
  const report = await clusterStatus(req.dir);
  const access = await connectCluster(req.dir, { events: req.events });
  try {
    return await run(access, req, report, started);
  } finally {
    await access.close();
  }
}

async function run(
  access: ClusterAccess,
  req: SwitchoverRequest & { dir: string; events: EventSink },
  report: Awaited<ReturnType<typeof clusterStatus>>,
  started: number,
): Promise<SwitchoverReport> {
  const p = pgPathsFor(access.config);
  // each step's time is a timing event (TPA_PROFILE=1 shows them): the stall is their sum
  const exec = async (host: string, command: string, step: string, timeoutMs = 120_000) => {
    const t0 = Date.now();
    const r = await access.pool.forHost(host).exec(command, { step, timeoutMs });
    req.events({ kind: 'timing', what: step, host, durationMs: Date.now() - t0 });
    return r;
  };
  const info = (message: string) => req.events({ kind: 'info', message });

  // the primary's open transactions decide whether it may go now (before anything changes)
  const prelim = planSwitchover(report, { ...req, force: true });
  const tx = await exec(
    prelim.primary.node,
    psqlAsPostgres({ sql: OPEN_TRANSACTIONS_SQL }),
    'switchover: open transactions',
  );
  const plan = planSwitchover(report, req, parseTransactions(tx.stdout));
  const cluster = access.config.clusters.find((c) => c.name === plan.cluster)!;
  const manager = failoverManagerOf(cluster);
  const pooler = poolerOf(cluster);
  const steps = manager.switchover;
  if (!steps || !manager.rejoinCommand || !manager.rebuildCommand)
    throw new UsageError(
      `cluster ${cluster.name} runs failover_manager ${manager.name}: it has no switchover`,
    );
  const nodes = [plan.primary, plan.target, ...plan.siblings];
  const from = plan.primary.node;
  const to = plan.target.node;
  const all = (command: (node: string) => string, step: string) =>
    Promise.all(nodes.map((n) => exec(n.node, command(n.node), step)));
  info(`switchover ${from} -> ${to}: pausing ${manager.name} and ${pooler.name}`);

  await all(() => manager.pause || 'true', 'switchover: pause the failover manager');
  let stallStart = Date.now();
  let poolersPaused = false;
  const resumePoolers = async () => {
    if (pooler.switchover && poolersPaused) {
      await all(() => pooler.switchover!.resume(), 'switchover: resume the pooler');
      poolersPaused = false;
    }
  };
  try {
    if (pooler.switchover) {
      poolersPaused = true;
      stallStart = Date.now();
      await all(() => pooler.switchover!.pause(), 'switchover: pause the pooler').catch((e: unknown) => {
        throw new OperationError(
          `${pooler.name} could not pause: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
          {
            step: 'switchover: pause the pooler',
            hint: 'clients that keep a session open hold it (session pooling); nothing was switched',
          },
        );
      });
    }
    // a clean shutdown sends every WAL record, its shutdown checkpoint last, to the standbys
    await exec(from, sh`systemctl stop ${p.service}`, 'switchover: stop the old primary');
    const cp = await exec(
      from,
      sh`LC_ALL=C ${`${p.binDir}/pg_controldata`} -D ${p.dataDir} | sed -n 's/^Latest checkpoint location: *//p; s/^Database cluster state: *//p'`,
      "switchover: read the old primary's last WAL position",
    );
    const [state, lsn] = cp.stdout.trim().split('\n');
    if (state !== 'shut down' || !lsn)
      throw new OperationError(`${from} did not shut down cleanly (${state ?? '?'})`, {
        host: from,
        step: 'switchover: stop the old primary',
      });
    const caughtUp = psqlAsPostgres({ sql: `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn` });
    await exec(
      to,
      `i=0; until [ "$(${caughtUp})" = t ]; do i=$((i+1)); [ $i -le 300 ] || { echo "${to} did not replay up to ${lsn} within 30 s" >&2; exit 1; }; sleep 0.1; done`,
      `switchover: ${to} replays up to ${lsn}`,
      60_000,
    );
    await exec(to, steps.promote(p), `switchover: promote ${to}`);
  } catch (e) {
    // put everything back: the old primary stays the primary (its start guard refuses if
    // the target did become a primary after all)
    const back = await Promise.allSettled([
      exec(from, sh`systemctl start ${p.service}`, 'switchover: start the old primary again'),
    ]);
    await resumePoolers().catch(() => undefined);
    await all(() => manager.resume || 'true', 'switchover: resume the failover manager').catch(
      () => undefined,
    );
    const restarted = back[0]?.status === 'fulfilled';
    throw new OperationError(
      `switchover ${from} -> ${to} failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}; ` +
        (restarted
          ? `${from} is the primary again and the poolers resumed on it`
          : `${from} did not start again: see tpa status`),
      { step: 'switchover', hint: 'nothing was switched; tpa status shows each node' },
    );
  }

  // from here on the target is the primary: every step is tried, whatever failed before it
  const problems: string[] = [];
  const attempt = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      // a failed command: what it said last, not the command line
      const why =
        e instanceof RemoteCommandError
          ? `exit ${e.details.exitCode}: ${e.details.stderr.trim().split('\n').slice(-2).join(' ')}`
          : e instanceof Error
            ? e.message.split('\n')[0]
            : String(e);
      problems.push(`${what}: ${why}`);
    }
  };
  // The manager's records and the other standbys move to the new primary at once, while the
  // poolers are pointed at it: with durability sync a commit waits for a standby, and until
  // one streams from the new primary the clients the poolers let through would only wait.
  const recorded = attempt(`recording ${to} as the primary`, () =>
    exec(to, steps.record(p), `switchover: record ${to} as the primary`),
  );
  const siblingsFollow = recorded.then(() =>
    Promise.all(
      plan.siblings.map((s) =>
        attempt(`${s.node} following ${to}`, () =>
          exec(s.node, steps.follow(p, cluster, to), `switchover: ${s.node} follows ${to}`, 600_000),
        ),
      ),
    ),
  );
  // the old primary comes back as a standby, once the records name the new primary
  const oldPrimaryBack = recorded.then(() =>
    attempt(`${from} rejoining`, async () => {
      const t0 = Date.now();
      const out = await bringBack(
        {
          host: access.pool.forHost(from),
          manager,
          paths: p,
          cluster,
          node: { name: from, address: plan.primary.address },
          primary: { name: to, address: plan.target.address },
        },
        'rejoin',
      );
      req.events({
        kind: 'timing',
        what: `switchover: ${from} rejoins as a standby`,
        host: from,
        durationMs: Date.now() - t0,
      });
      // a clean shutdown needs no rewind; when the rejoin failed anyway, a fresh clone did
      if (out.keptDataDir)
        req.events({
          kind: 'warning',
          host: from,
          message: `${from} could not rejoin (${out.rewindFailed ?? '?'}): cloned afresh, its old data directory is kept at ${out.keptDataDir}`,
        });
    }),
  );
  if (pooler.switchover) {
    await attempt('pointing the poolers at the new primary', () =>
      all(
        () => pooler.switchover!.route(plan.target.address),
        'switchover: point the pooler at the new primary',
      ),
    );
    await attempt('resuming the poolers', resumePoolers);
  }
  const stallMs = Date.now() - stallStart;
  info(
    `switchover ${from} -> ${to}: ${to} is the primary, clients resumed after ${(stallMs / 1000).toFixed(1)} s`,
  );

  await Promise.all([siblingsFollow, oldPrimaryBack]);
  await attempt('resuming the failover manager', () =>
    all(() => manager.resume || 'true', 'switchover: resume the failover manager'),
  );
  const commit = await recordPrimaries(
    access.dir,
    [{ cluster: cluster.name, from, to }],
    `switchover: ${from} -> ${to}`,
  );
  if (problems.length)
    throw new OperationError(`${to} is the primary now (config.yml says so), but: ${problems.join('; ')}`, {
      step: 'switchover: after the promotion',
      hint: 'tpa deploy resumes what is paused; tpa rejoin DIR NODE brings a standby back; tpa status shows each node',
    });
  for (const n of [from, ...plan.siblings.map((s) => s.node)]) await waitStreaming(req.dir, n, 120_000);
  return { cluster: cluster.name, from, to, stallMs, durationMs: Date.now() - started, commit };
}
