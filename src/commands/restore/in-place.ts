/**
 * `tpa restore DIR --cluster C (--time T | ...) --in-place --yes`: the cluster itself goes back
 * to the target. Nothing is deleted: every node's data directory is kept aside.
 *
 *   1. the target is checked against what barman holds, and every node of the cluster and its
 *      backup server must answer: refused before anything changes
 *   2. repmgrd stopped on every node (it must not promote a replica while the primary is
 *      down), then each server stopped and its data directory renamed to
 *      <dataDir>.before-restore-<stamp> (replicas first, then the configured primary)
 *   3. barman recovers into the configured primary's empty data directory, which replays to
 *      the target and promotes on a new timeline; repmgr's node records are cleared
 *   4. barman's WAL streaming is reset: what it received past the target belongs to the
 *      abandoned timeline (it stays archived; a later restore can still reach it)
 *   5. `tpa deploy`: replicas cloned from the restored primary, repmgr registers every node,
 *      repmgrd runs again, pgbouncer and barman point at the primary
 *   6. a full backup on the new timeline, so the next restore does not start before this one
 */
import { OperationError, UsageError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { serverConfFor } from '../../components/barman/conf.ts';
import { barmanCommand, serverConfPath } from '../../components/barman/paths.ts';
import { clusterNodes, pgPathsFor } from '../../components/postgres/paths.ts';
import { failoverManagerOf } from '../../components/failover/registry.ts';
import type { InventoryHost } from '../../platforms/platform.ts';
import { backup } from '../backup/index.ts';
import { backupTargets, onBackupHost } from '../backup/barman-client.ts';
import { connectCluster, type ClusterAccess } from '../../clusterdir/connect.ts';
import { deploy } from '../deploy/index.ts';
import type { RestoreReport, RestoreRequest } from './types.ts';
import { checkRestoreTarget, type AcceptedPlan } from './range.ts';
import {
  keepDataDirAsideCommand,
  must,
  recoverIntoNode,
  restoreStamp,
  targetText,
  timed,
} from './recover.ts';

export interface KeptDataDir {
  node: string;
  path: string;
}

/** every node of the cluster and the backup server answer, before anything is stopped */
async function reachable(access: ClusterAccess, hosts: string[]) {
  const down: string[] = [];
  await Promise.all(
    hosts.map(async (h) => {
      const r = await access.pool
        .forHost(h)
        .exec('true', { step: 'restore: reach the node', timeoutMs: 30_000 })
        .catch((e: unknown) => ({ exitCode: 1, stderr: e instanceof Error ? e.message : String(e) }));
      if (r.exitCode !== 0) down.push(`${h} (${r.stderr.trim().split('\n').at(-1) ?? ''})`);
    }),
  );
  if (down.length > 0) {
    throw new OperationError(`restore in place needs every node: ${down.join(', ')} cannot be reached`, {
      step: 'restore: reach the nodes',
      hint: 'start them (tpa status shows them) or remove them from config.yml; nothing was changed',
    });
  }
}

function keptHint(kept: KeptDataDir[]): string {
  if (kept.length === 0) return 'no data directory was moved';
  return `the data directories before the restore are kept: ${kept.map((k) => `${k.node}:${k.path}`).join(', ')}; move them back to go back`;
}

export async function restoreInPlace(req: RestoreRequest): Promise<RestoreReport> {
  const started = Date.now();
  const events: EventSink = req.events;
  const access = await connectCluster(req.dir, { events });
  const timings: Record<string, number> = {};
  const kept: KeptDataDir[] = [];
  let plan: AcceptedPlan;
  let serverHost: string;
  let nodes: InventoryHost[];
  try {
    const [target] = backupTargets(access, req.cluster);
    serverHost = target!.host.name;
    const cluster = target!.cluster;
    const primaryName = cluster.nodes.find((n) => n.role === 'primary')?.name;
    const primary = access.inventory.hosts.find((h) => h.name === primaryName);
    if (!primary) {
      throw new UsageError(
        `the primary of ${cluster.name} is not provisioned`,
        `run tpa provision ${req.dir} first`,
      );
    }
    nodes = clusterNodes(primary, access.inventory.hosts);
    events({ kind: 'phase-started', phase: 'restore: check the target', hosts: [serverHost] });
    plan = await checkRestoreTarget(access.pool.forHost(serverHost), target!, req.target, events);
    await reachable(access, [...nodes.map((n) => n.name), serverHost]);
    events({ kind: 'info', message: `restoring ${cluster.name} in place: ${plan.description}` });

    const p = pgPathsFor(access.config);
    const stamp = restoreStamp();
    const replicas = nodes.filter((n) => n.name !== primary.name);
    events({
      kind: 'phase-started',
      phase: 'restore: stop the cluster, data directories kept aside',
      hosts: nodes.map((n) => n.name),
    });
    const manager = failoverManagerOf(cluster);
    if (manager.pause !== '') {
      await Promise.all(
        nodes.map((n) =>
          must(
            access.pool.forHost(n.name),
            manager.pause,
            `restore: stop ${manager.daemonUnit ?? manager.name}`,
          ),
        ),
      );
    }
    const aside = async (n: InventoryHost) => {
      const r = await must(
        access.pool.forHost(n.name),
        keepDataDirAsideCommand(p, 'before-restore', stamp),
        'restore: keep the data directory aside',
        { timeoutMs: 10 * 60_000 },
      );
      const path = r.stdout.trim();
      if (path) {
        kept.push({ node: n.name, path });
        events({ kind: 'info', host: n.name, message: `kept the data directory as ${path}` });
      }
    };
    try {
      await Promise.all(replicas.map(aside));
      await aside(primary);
      timings.recover = await recoverIntoNode({
        access,
        server: req.cluster,
        serverHost,
        node: primary.name,
        plan,
        clearRepmgrNodes: true,
        events,
      });
      events({ kind: 'phase-started', phase: 'restore: reset WAL streaming', hosts: [serverHost] });
      // receive-wal's position lies on the abandoned timeline: start again from the server's,
      // with barman's server pointed at the restored primary as deploy will write it
      const bh = access.pool.forHost(serverHost);
      await bh.upload(
        serverConfPath(req.cluster),
        serverConfFor(access.config, req.cluster, primary.address),
        { mode: 0o644, owner: 'root', group: 'root', sudo: true },
      );
      const reset = await onBackupHost(
        bh,
        [
          `${barmanCommand(['receive-wal', '--stop', req.cluster])} >/dev/null 2>&1 || true`,
          barmanCommand(['receive-wal', '--reset', req.cluster]),
        ].join('\n'),
        { step: 'restore: reset WAL streaming' },
      );
      if (reset.exitCode !== 0) {
        throw new OperationError(`barman receive-wal --reset ${req.cluster} failed: ${reset.stderr.trim()}`, {
          host: serverHost,
          step: 'restore: reset WAL streaming',
        });
      }
    } catch (e) {
      // the cluster is down now: say where its data is
      const hint = keptHint(kept);
      if (e instanceof OperationError)
        throw new OperationError(e.message, {
          ...(e.host ? { host: e.host } : {}),
          ...(e.step ? { step: e.step } : {}),
          hint: e.hint ? `${e.hint}; ${hint}` : hint,
        });
      throw new OperationError(e instanceof Error ? e.message : String(e), { hint });
    }
  } finally {
    await access.close();
  }

  events({ kind: 'phase-started', phase: `restore: deploy cluster ${req.cluster}` });
  await timed(timings, 'deploy', () => deploy({ dir: req.dir, events }));
  events({ kind: 'phase-started', phase: `restore: a full backup of ${req.cluster} on its new timeline` });
  const taken = await timed(timings, 'backup', () => backup({ dir: req.dir, cluster: req.cluster, events }));
  return {
    ok: true,
    cluster: req.cluster,
    into: req.cluster,
    inPlace: true,
    nodes: nodes.map((n) => n.name),
    backup: plan.backup.id,
    target: targetText(req.target),
    kept,
    newBackup: taken.backups[0]?.backup.id,
    durationMs: Date.now() - started,
    timings,
  };
}
