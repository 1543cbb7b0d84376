/**
 * `tpa remove-node DIR NODE --yes`: a replica leaves its cluster for good. Checked first
 * (plan.ts); then the nodes that stream from it follow its own upstream, its server and the
 * failover manager's daemon stop, the manager forgets it and its replication slot goes from
 * its upstream, config.yml loses it (committed: "remove-node: ..."), provision removes its
 * machine and deploy takes it out of the others' configuration (pg_hba, the synchronous
 * standby list: reloads). Backups are not touched: barman follows the primary.
 */
import type { EventSink } from '../../core/events.ts';
import { OperationError, UsageError } from '../../core/errors.ts';
import { sh } from '../../core/shell.ts';
import { loadClusterConfig } from '../../clusterdir/dir.ts';
import { editConfig } from '../../clusterdir/edit-config.ts';
import { connectCluster } from '../../clusterdir/connect.ts';
import { failoverManagerOf } from '../../components/failover/registry.ts';
import { pgPathsFor } from '../../components/postgres/paths.ts';
import { clusterStatus } from '../status/index.ts';
import { convergeAfterEdit } from '../converge.ts';
import { requireConfirmation, type Confirmation } from '../confirm.ts';
import { leaveEdit, planRemoveNode, type RemoveNodePlan } from './plan.ts';

export interface RemoveNodeRequest extends Confirmation {
  dir: string;
  node: string;
  events: EventSink;
}

export interface RemoveNodeReport extends RemoveNodePlan {
  commit: string | null;
  durationMs: number;
}

export async function removeNodeOperation(req: RemoveNodeRequest): Promise<RemoveNodeReport> {
  const started = Date.now();
  const { config } = await loadClusterConfig(req.dir);
  const plan = planRemoveNode(config, await clusterStatus(req.dir), req.node, (name) => {
    const c = config.clusters.find((x) => x.name === name)!;
    return failoverManagerOf(c).fencesBelow?.(c) ?? 0;
  });
  const cluster = config.clusters.find((c) => c.name === plan.cluster)!;
  const manager = failoverManagerOf(cluster);
  if (plan.children.length && !manager.switchover)
    throw new UsageError(
      `cluster ${plan.cluster} runs failover_manager ${manager.name}: its replicas cannot be re-pointed`,
    );
  await requireConfirmation(
    req,
    'remove-node destroys a machine',
    `remove ${req.node} from cluster ${plan.cluster} and destroy its machine${plan.children.length ? ` (${plan.children.join(', ')} will stream from ${plan.followTarget})` : ''}?`,
  );
  const paths = pgPathsFor(config);
  const access = await connectCluster(req.dir, { events: req.events });
  let step = `${plan.children.join(', ')} follow ${plan.followTarget}`;
  try {
    for (const child of plan.children) {
      await access.pool.forHost(child).exec(manager.switchover!.follow(paths, cluster, plan.followTarget), {
        step: `remove-node: ${child} follows ${plan.followTarget}`,
      });
    }
    step = `stop ${req.node}`;
    if (plan.reachable) {
      const stop = [
        ...(manager.daemonUnit ? [sh`systemctl disable --now ${manager.daemonUnit}`] : []),
        sh`systemctl disable --now ${paths.service}`,
      ].join(' && ');
      await access.pool.forHost(req.node).exec(stop, { step: `remove-node: stop ${req.node}` });
    }
    step = `forget ${req.node} on ${plan.upstream}`;
    if (manager.forgetNode) {
      await access.pool.forHost(plan.upstream).exec(manager.forgetNode(paths, cluster, req.node), {
        step: `remove-node: forget ${req.node} on ${plan.upstream}`,
      });
    }
  } catch (e) {
    throw new OperationError(
      `remove-node stopped at "${step}": ${e instanceof Error ? e.message : String(e)}`,
      {
        step: `remove-node: ${step}`,
        hint: `config.yml is unchanged; tpa status shows each node; run tpa remove-node DIR ${req.node} again once the cause is fixed`,
      },
    );
  } finally {
    await access.close();
  }
  const edit = await editConfig(
    req.dir,
    (text) => leaveEdit(text, cluster, plan),
    `remove-node: ${req.node} from cluster ${plan.cluster}` +
      (plan.children.length
        ? `; ${plan.children.join(', ')} stream${plan.children.length === 1 ? 's' : ''} from ${plan.followTarget}`
        : ''),
  );
  await convergeAfterEdit(req.dir, req.events, {
    operation: 'remove-node',
    change: `the removal of ${req.node}`,
    commit: edit.commit,
  });
  return { ...plan, commit: edit.commit, durationMs: Date.now() - started };
}
