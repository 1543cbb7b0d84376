/**
 * What `tpa remove-node` will do, decided from config.yml and the cluster as it is now before
 * anything changes. Pure: every refusal is a UsageError (exit 2) or an OperationError that says
 * why and what to run instead.
 */
import { OperationError, UsageError } from '../../core/errors.ts';
import type { ClusterConfig, ClusterGroupConfig } from '../../model/schema.ts';
import { removeNode, setNodeField, setNodeUpstream } from '../../clusterdir/config-edits.ts';
import { repmgrNodeId } from '../../components/topology.ts';
import type { StatusReport } from '../status/index.ts';

export interface RemoveNodePlan {
  cluster: string;
  node: string;
  /** false: its machine does not answer (it is removed all the same) */
  reachable: boolean;
  /** where it streams from now (its replication slot lives there) */
  upstream: string;
  /** nodes that stream from it: they follow `newUpstream` first */
  children: string[];
  /** the children's new upstream in config.yml; absent: the primary */
  newUpstream?: string;
  /** the node the children follow (the primary when newUpstream is absent) */
  followTarget: string;
}

/**
 * `fencesBelow`: with fewer standbys streaming from it, the primary fences itself once no other
 * node answers (the failover manager's number for the cluster, 0 for none).
 */
export function planRemoveNode(
  config: ClusterGroupConfig,
  status: StatusReport,
  node: string,
  fencesBelow: (clusterName: string) => number = () => 0,
): RemoveNodePlan {
  const cluster = config.clusters.find((c) => c.nodes.some((n) => n.name === node));
  if (!cluster) {
    const service = (config.services ?? []).find((s) => s.name === node);
    if (service) throw new UsageError(`${node} is a service of this group, not a node of a cluster`);
    const names = config.clusters.flatMap((c) => c.nodes.map((n) => n.name));
    throw new UsageError(`no node ${node} in this cluster group`, `the nodes are: ${names.join(', ')}`);
  }
  const primary = status.primaries[cluster.name];
  const configured = cluster.nodes.find((n) => n.name === node)!;
  if (configured.role === 'primary' || primary === node) {
    throw new UsageError(
      `${node} is the primary of cluster ${cluster.name}: a primary is not removed`,
      `switch over first (tpa switchover DIR --cluster ${cluster.name}), then remove it`,
    );
  }
  const replicasLeft = cluster.nodes.filter((n) => n.role !== 'primary' && n.name !== node).length;
  if (cluster.durability === 'sync' && replicasLeft === 0) {
    throw new UsageError(
      `removing ${node} would leave cluster ${cluster.name} (durability: sync) without a standby: every write would wait`,
      'add a replica first (tpa add-replica), or set durability: async in config.yml and deploy',
    );
  }
  if (!primary) {
    throw new OperationError(`cluster ${cluster.name} has no running primary`, {
      step: 'remove-node: check the cluster',
      hint: 'tpa status shows each node; nothing was changed',
    });
  }
  const row = status.nodes.find((r) => r.node === node);
  const children = cluster.nodes.filter((n) => n.upstream === node).map((n) => n.name);
  const down = status.nodes.filter((r) => children.includes(r.node) && r.state !== 'running');
  if (down.length > 0) {
    throw new OperationError(
      `${down.map((r) => `${r.node} (${r.state})`).join(', ')} stream${down.length === 1 ? 's' : ''} from ${node} and must follow another node first, but ${down.length === 1 ? 'is' : 'are'} not running`,
      { step: 'remove-node: check the cluster', hint: 'start or rebuild them first; nothing was changed' },
    );
  }
  const upstream = row?.upstream ?? configured.upstream ?? primary;
  const newUpstream = configured.upstream;
  // the standbys streaming from the primary afterwards (those of the node follow its upstream)
  const direct = cluster.nodes.filter((n) => {
    if (n.role === 'primary' || n.name === node) return false;
    const up = n.upstream === node ? newUpstream : n.upstream;
    return up === undefined || up === primary;
  }).length;
  const min = fencesBelow(cluster.name);
  if (direct < min) {
    throw new UsageError(
      `removing ${node} would leave ${primary} with ${direct} standby${direct === 1 ? '' : 's'} streaming from it, fewer than the ${min} it needs not to fence itself: the primary would stop once ${node}'s machine is gone`,
      'add a replica first (tpa add-replica), or set clusters[].failover.min_standbys lower in config.yml and deploy',
    );
  }
  return {
    cluster: cluster.name,
    node,
    reachable: row?.state !== 'unreachable',
    upstream,
    children,
    ...(newUpstream !== undefined ? { newUpstream } : {}),
    followTarget: newUpstream ?? primary,
  };
}

/**
 * config.yml without the node (remove-node, fork): the nodes that streamed from it follow its
 * upstream, and the nodes after it in the list get `node_id:`, so that their ids in the
 * failover manager, which default to their positions, stay what it knows.
 */
export function leaveEdit(text: string, cluster: ClusterConfig, leave: RemoveNodePlan): string {
  let out = text;
  for (const child of leave.children) out = setNodeUpstream(out, cluster.name, child, leave.newUpstream);
  const after = cluster.nodes.slice(cluster.nodes.findIndex((n) => n.name === leave.node) + 1);
  for (const n of after)
    out = setNodeField(out, cluster.name, n.name, 'node_id', repmgrNodeId(cluster, n.name));
  return removeNode(out, cluster.name, leave.node);
}
