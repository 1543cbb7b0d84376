/**
 * What `tpa add-replica` will add, decided from config.yml and the cluster as it is now (tpa
 * status' rows) before anything changes. Pure: every refusal is a UsageError (exit 2) that says
 * why and what to do instead; config.yml's own rules (instance types, names) are checked when
 * the edit is validated.
 */
import { OperationError, UsageError } from '../../core/errors.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';
import type { StatusReport } from '../status/index.ts';

export interface AddReplicaInput {
  cluster?: string;
  name?: string;
  upstream?: string;
  instanceType?: string;
}

export interface NewReplica {
  name: string;
  role: 'replica';
  node_id?: number;
  upstream?: string;
  instance_type?: string;
}

export interface AddReplicaPlan {
  cluster: string;
  node: NewReplica;
}

/** every name a host of the group has (nodes of every cluster, and services) */
export function groupNames(config: ClusterGroupConfig): string[] {
  return [
    ...config.clusters.flatMap((c) => c.nodes.map((n) => n.name)),
    ...(config.services ?? []).map((s) => s.name),
  ];
}

/** the cluster an operation means: the one named, or the only one there is */
export function pickCluster(config: ClusterGroupConfig, name: string | undefined): string {
  const names = config.clusters.map((c) => c.name);
  if (name === undefined) {
    if (names.length === 1) return names[0]!;
    throw new UsageError(
      `this group has ${names.length} clusters: say which one`,
      `--cluster ${names.join(' | ')}`,
    );
  }
  if (!names.includes(name))
    throw new UsageError(`no cluster ${name} in this group`, `the clusters are: ${names.join(', ')}`);
  return name;
}

/** CLUSTER-N with N one more than the highest such number in the group */
export function nextNodeName(config: ClusterGroupConfig, cluster: string): string {
  const used = groupNames(config);
  const re = new RegExp(`^${cluster.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
  let n = Math.max(0, ...used.map((u) => Number(re.exec(u)?.[1] ?? 0))) + 1;
  while (used.includes(`${cluster}-${n}`)) n++;
  return `${cluster}-${n}`;
}

export function planAddReplica(
  config: ClusterGroupConfig,
  status: StatusReport,
  input: AddReplicaInput,
): AddReplicaPlan {
  const cluster = pickCluster(config, input.cluster);
  const name = input.name ?? nextNodeName(config, cluster);
  if (groupNames(config).includes(name)) {
    throw new UsageError(
      `${name} is already a host of this group`,
      'pick another --name, or leave it out for the next free one',
    );
  }
  const members = config.clusters.find((c) => c.name === cluster)!.nodes.map((n) => n.name);
  if (input.upstream !== undefined && !members.includes(input.upstream)) {
    const other = config.clusters.find((c) => c.nodes.some((n) => n.name === input.upstream));
    throw new UsageError(
      other
        ? `${input.upstream} is a node of cluster ${other.name}: a replica streams from a node of its own cluster (${cluster})`
        : `no node ${input.upstream} in cluster ${cluster}`,
      `the nodes of ${cluster} are: ${members.join(', ')}`,
    );
  }
  const rows = status.nodes.filter((r) => r.cluster === cluster);
  const down = rows.filter((r) => r.state !== 'running');
  if (down.length > 0) {
    throw new OperationError(
      `${down.map((r) => `${r.node} is ${r.state}`).join(', ')}: adding a replica needs every node of cluster ${cluster} running (deploy changes them all)`,
      {
        step: 'add-replica: check the cluster',
        hint: 'tpa status shows each node; tpa rejoin or tpa rebuild bring one back; nothing was changed',
      },
    );
  }
  const primary = status.primaries[cluster];
  if (!primary) {
    throw new OperationError(`cluster ${cluster} has no running primary: there is nothing to clone from`, {
      step: 'add-replica: check the cluster',
      hint: 'tpa status shows each node; nothing was changed',
    });
  }
  if (input.upstream !== undefined && input.upstream !== primary) {
    const up = rows.find((r) => r.node === input.upstream)!;
    if (up.receiver !== 'streaming') {
      throw new UsageError(
        `${input.upstream} does not stream from its upstream now (${up.receiver ?? 'no WAL receiver'}): a new replica cannot cascade from it`,
        'tpa status shows it; pick another --upstream or leave it out to stream from the primary',
      );
    }
  }
  // once ids are written (after a remove-node), a new node gets the next one: its position
  // would repeat one of them
  const nodes = config.clusters.find((c) => c.name === cluster)!.nodes;
  const pinned = nodes.some((n) => n.node_id !== undefined);
  const nextId = Math.max(...nodes.map((n, i) => n.node_id ?? i + 1)) + 1;
  return {
    cluster,
    node: {
      name,
      role: 'replica',
      ...(pinned ? { node_id: nextId } : {}),
      ...(input.upstream !== undefined && input.upstream !== primary ? { upstream: input.upstream } : {}),
      ...(input.instanceType !== undefined ? { instance_type: input.instanceType } : {}),
    },
  };
}
