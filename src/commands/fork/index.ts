/**
 * `tpa fork DIR NODE --into NEW`: a replica leaves its cluster and becomes the primary of a
 * new cluster of the group, with the data it had at the moment of the fork, on a timeline of
 * its own. Checked first (plan.ts). The order keeps the cluster it leaves from ever seeing it
 * as a primary (its poolers would follow the newer timeline, its primary's fence would stop
 * for it):
 *   1. nodes that stream from it follow its upstream; its failover manager's daemon stops;
 *   2. config.yml moves it into NEW (one commit), provision records that;
 *   3. deploy on the cluster it leaves only: its nodes' peer lists (poolers, fences, pg_hba,
 *      synchronous standbys) no longer name it;
 *   4. it replays up to what the primary had written when the fork began, and is promoted;
 *   5. the cluster it left forgets it (its record, its replication slot); it forgets the
 *      records of the cluster it came from;
 *   6. deploy on the whole group: NEW gets its failover manager, pooler and backups.
 * The original cluster is otherwise untouched. A failure says where it stopped and what state
 * the node is in.
 */
import type { EventSink } from '../../core/events.ts';
import { OperationError, UsageError } from '../../core/errors.ts';
import { loadClusterConfig } from '../../clusterdir/dir.ts';
import { editConfig } from '../../clusterdir/edit-config.ts';
import { addCluster, addService } from '../../clusterdir/config-edits.ts';
import { connectCluster } from '../../clusterdir/connect.ts';
import { failoverManagerOf } from '../../components/failover/registry.ts';
import { pgPathsFor } from '../../components/postgres/paths.ts';
import { psqlAsPostgres } from '../../components/postgres/psql.ts';
import { noSyncStandbysCommand } from '../../components/postgres/settings.ts';
import { clusterStatus } from '../status/index.ts';
import { provision } from '../provision/index.ts';
import { deploy } from '../deploy/index.ts';
import { planFork } from './plan.ts';
import { leaveEdit } from '../remove-node/plan.ts';

export interface ForkRequest {
  dir: string;
  node: string;
  into: string;
  events: EventSink;
}

export interface ForkReport {
  node: string;
  /** the cluster it left, and the new one */
  from: string;
  into: string;
  /** the WAL position it had replayed when it was promoted: the moment of the fork */
  forkLsn: string;
  /** its timeline once promoted */
  timeline: number;
  backupServer?: string;
  commit: string | null;
  durationMs: number;
}

export async function fork(req: ForkRequest): Promise<ForkReport> {
  const started = Date.now();
  const { config } = await loadClusterConfig(req.dir);
  const plan = planFork(config, await clusterStatus(req.dir), req.node, req.into, (name) => {
    const c = config.clusters.find((x) => x.name === name)!;
    return failoverManagerOf(c).fencesBelow?.(c) ?? 0;
  });
  const { leave } = plan;
  const from = config.clusters.find((c) => c.name === leave.cluster)!;
  const manager = failoverManagerOf(from);
  const steps = manager.switchover;
  if (!steps || (leave.children.length > 0 && !manager.switchover))
    throw new UsageError(
      `cluster ${from.name} runs failover_manager ${manager.name}: it has no standby to fork`,
    );
  const p = pgPathsFor(config);
  const info = (message: string) => req.events({ kind: 'info', message });
  const access = await connectCluster(req.dir, { events: req.events });
  let step = 'start';
  let commit: string | null = null;
  let promoted = false;
  try {
    const on = (host: string, command: string, what: string, timeoutMs = 120_000) => {
      step = what;
      return access.pool.forHost(host).exec(command, { step: `fork: ${what}`, timeoutMs });
    };
    for (const child of leave.children)
      await on(
        child,
        steps.follow(p, from, leave.followTarget),
        `${child} follows ${leave.followTarget}`,
        600_000,
      );
    if (manager.daemonUnit) await on(req.node, manager.pause, `stop ${manager.name} on ${req.node}`);

    step = 'config.yml';
    const edit = await editConfig(
      req.dir,
      (text) => {
        const out = leaveEdit(text, from, leave);
        return addCluster(plan.service ? addService(out, plan.service) : out, plan.cluster);
      },
      `fork: ${req.node} of cluster ${from.name} into the new cluster ${req.into}`,
    );
    commit = edit.commit;
    step = 'provision';
    await provision({ dir: req.dir, events: req.events });
    step = `deploy of cluster ${from.name}`;
    info(`fork: cluster ${from.name} stops counting ${req.node} among its nodes`);
    const stay = from.nodes.map((n) => n.name).filter((n) => n !== req.node);
    // its checks come with the last deploy: the cluster still has the node's record until then
    await deploy({ dir: req.dir, events: req.events, only: stay, skipChecks: true });

    // the moment of the fork: what the primary had written when it began, replayed
    const primary = (await clusterStatus(req.dir)).primaries[from.name]!;
    const lsn = (
      await on(primary, psqlAsPostgres({ sql: 'SELECT pg_current_wal_lsn()' }), `${primary}'s WAL position`)
    ).stdout.trim();
    const replayed = psqlAsPostgres({ sql: `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn` });
    await on(
      req.node,
      `i=0; until [ "$(${replayed})" = t ]; do i=$((i+1)); [ $i -le 600 ] || { echo "${req.node} did not replay up to ${lsn} within 60 s" >&2; exit 1; }; sleep 0.1; done`,
      `${req.node} replays up to ${lsn}`,
    );
    await on(req.node, noSyncStandbysCommand(p), `${req.node} waits for no synchronous standby`);
    await on(req.node, steps.promote(p), `promote ${req.node}`);
    promoted = true;
    const state = (
      await on(
        req.node,
        psqlAsPostgres({
          sql: 'SELECT pg_last_wal_replay_lsn(), substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)',
        }),
        `${req.node}'s timeline`,
      )
    ).stdout.trim();
    const [forkLsn, tli] = state.split('|');
    info(
      `fork: ${req.node} is the primary of ${req.into} on timeline ${parseInt(tli ?? '0', 16)}, from ${forkLsn}`,
    );

    if (manager.forgetNode)
      await on(
        leave.upstream,
        manager.forgetNode(p, from, req.node),
        `forget ${req.node} on ${leave.upstream}`,
      );
    await on(req.node, manager.forgetNodes, `${req.node} forgets cluster ${from.name}'s records`);

    step = 'deploy';
    await deploy({ dir: req.dir, events: req.events });
    return {
      node: req.node,
      from: from.name,
      into: req.into,
      forkLsn: forkLsn ?? '',
      timeline: parseInt(tli ?? '0', 16),
      ...(typeof plan.cluster.backup_server === 'string' ? { backupServer: plan.cluster.backup_server } : {}),
      commit,
      durationMs: Date.now() - started,
    };
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n').slice(0, 3).join(' ') : String(e);
    const where = await clusterStatus(req.dir)
      .then((s) =>
        s.nodes
          .filter((n) => n.cluster === from.name || n.node === req.node)
          .map((n) => `${n.node} ${n.role} ${n.state}`)
          .join(', '),
      )
      .catch(() => 'tpa status shows each node');
    throw new OperationError(
      `fork of ${req.node} stopped at "${step}": ${why}; where the nodes stand: ${where}`,
      {
        step: `fork: ${step}`,
        hint: promoted
          ? `${req.node} is the primary of ${req.into} and config.yml says so (commit ${commit?.slice(0, 7) ?? '?'}): once the cause is fixed, tpa deploy DIR finishes the new cluster`
          : commit
            ? `${req.node} is still a standby of cluster ${from.name}, config.yml has it in ${req.into} (commit ${commit.slice(0, 7)}): to give up the fork, git -C DIR revert ${commit.slice(0, 7)}, then tpa provision DIR and tpa deploy DIR`
            : `config.yml is unchanged; run tpa fork DIR ${req.node} --into ${req.into} again once the cause is fixed (tpa rejoin DIR ${req.node} if it stopped streaming)`,
      },
    );
  } finally {
    await access.close();
  }
}
