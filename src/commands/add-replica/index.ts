/**
 * `tpa add-replica DIR [--cluster C] [--name N] [--upstream U] [--instance-type T]`: checks the
 * request against config.yml and the running cluster (plan.ts), adds the node to config.yml
 * (comments kept, validated, committed: "add-replica: ..."), then provisions its machine and
 * deploys, which clones it from its upstream, registers it with the failover manager, points
 * its pooler at the primary and changes on the other nodes only what a new member needs
 * (pg_hba, the synchronous standby list: reloads).
 */
import type { EventSink } from '../../core/events.ts';
import { loadClusterConfig } from '../../clusterdir/dir.ts';
import { editConfig } from '../../clusterdir/edit-config.ts';
import { addNode } from '../../clusterdir/config-edits.ts';
import { clusterStatus } from '../status/index.ts';
import { convergeAfterEdit, type Converged } from '../converge.ts';
import { planAddReplica, type AddReplicaInput } from './plan.ts';

export interface AddReplicaRequest extends AddReplicaInput {
  dir: string;
  events: EventSink;
}

export interface AddReplicaReport extends Converged {
  node: string;
  cluster: string;
  /** the node it streams from; absent: the primary */
  upstream?: string;
  commit: string | null;
  durationMs: number;
}

export async function addReplica(req: AddReplicaRequest): Promise<AddReplicaReport> {
  const started = Date.now();
  const { config } = await loadClusterConfig(req.dir);
  const plan = planAddReplica(config, await clusterStatus(req.dir), req);
  const { name } = plan.node;
  const message =
    `add-replica: ${name} in cluster ${plan.cluster}` +
    (plan.node.upstream ? `, streaming from ${plan.node.upstream}` : '');
  const edit = await editConfig(req.dir, (text) => addNode(text, plan.cluster, { ...plan.node }), message);
  const done = await convergeAfterEdit(req.dir, req.events, {
    operation: 'add-replica',
    change: name,
    commit: edit.commit,
    undo: `tpa remove-node DIR ${name} --yes`,
  });
  return {
    node: name,
    cluster: plan.cluster,
    ...(plan.node.upstream ? { upstream: plan.node.upstream } : {}),
    commit: edit.commit,
    ...done,
    durationMs: Date.now() - started,
  };
}
