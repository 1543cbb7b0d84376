/**
 * `tpa add-replica DIR [--cluster C] [--name N] [--upstream U] [--instance-type T]`: checks the
 * request against config.yml and the running cluster (plan.ts), adds the node to config.yml
 * (comments kept, validated, committed: "add-replica: ..."), then provisions its machine and
 * deploys, which clones it from its upstream, registers it with the failover manager, points
 * its pooler at the primary and changes on the other nodes only what a new member needs
 * (pg_hba, the synchronous standby list: reloads).
 */
import type { EventSink } from '../../core/events.ts';
import { OperationError } from '../../core/errors.ts';
import { loadClusterConfig } from '../../clusterdir/dir.ts';
import { editConfig } from '../../clusterdir/edit-config.ts';
import { addNode } from '../../clusterdir/config-edits.ts';
import { clusterStatus } from '../status/index.ts';
import { provision } from '../provision/index.ts';
import { deploy } from '../deploy/index.ts';
import { planAddReplica, type AddReplicaInput } from './plan.ts';

export interface AddReplicaRequest extends AddReplicaInput {
  dir: string;
  events: EventSink;
}

export interface AddReplicaReport {
  node: string;
  cluster: string;
  /** the node it streams from; absent: the primary */
  upstream?: string;
  commit: string | null;
  provisionMs: number;
  deployMs: number;
  /** changes deploy made, on every host */
  deployChanges: number;
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
  let step = 'provision';
  try {
    const p0 = Date.now();
    await provision({ dir: req.dir, events: req.events });
    const provisionMs = Date.now() - p0;
    step = 'deploy';
    const d0 = Date.now();
    const d = await deploy({ dir: req.dir, events: req.events });
    return {
      node: name,
      cluster: plan.cluster,
      ...(plan.node.upstream ? { upstream: plan.node.upstream } : {}),
      commit: edit.commit,
      provisionMs,
      deployMs: Date.now() - d0,
      deployChanges: d.changes,
      durationMs: Date.now() - started,
    };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new OperationError(
      `${name} is in config.yml (${edit.commit ? `commit ${edit.commit.slice(0, 7)}` : 'already'}), but its ${step} failed: ${why}`,
      {
        step: `add-replica: ${step}`,
        hint: `the other nodes run as before; fix the cause and run tpa provision DIR, then tpa deploy DIR (both continue from where this stopped), or take it out again with tpa remove-node DIR ${name} --yes`,
      },
    );
  }
}
