/**
 * What `tpa fork DIR NODE --into NEW` will do, decided before anything changes (pure). The
 * node leaves its cluster as remove-node would have it leave (the same refusals: not the
 * primary, not the last standby of a sync cluster, not below the primary's fencing minimum,
 * nodes that stream from it follow its upstream first), and becomes the primary of a new
 * cluster NEW: the same failover manager, pooler and settings as the cluster it leaves,
 * durability async (one node has no standby to wait for), and backups as the group has them
 * (the shared server, or a server of its own when backups are exclusive).
 */
import { UsageError } from '../../core/errors.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';
import type { StatusReport } from '../status/index.ts';
import { groupNames } from '../add-replica/plan.ts';
import { planRemoveNode, type RemoveNodePlan } from '../remove-node/plan.ts';

export interface ForkPlan {
  /** the node's leaving of its cluster */
  leave: RemoveNodePlan;
  /** the new cluster, as config.yml gets it */
  cluster: Record<string, unknown> & { name: string };
  /** a backup server of its own (backup.mode exclusive) */
  service?: { name: string; role: 'barman' };
}

export function planFork(
  config: ClusterGroupConfig,
  status: StatusReport,
  node: string,
  into: string,
  fencesBelow: (clusterName: string) => number = () => 0,
): ForkPlan {
  if (config.clusters.some((c) => c.name === into))
    throw new UsageError(`a cluster ${into} exists already in this group`, 'pick another name for --into');
  const used = groupNames(config);
  if (used.includes(into) && into !== node)
    throw new UsageError(`${into} is already a host of this group`, 'pick another name for --into');
  const leave = planRemoveNode(config, status, node, fencesBelow);
  const row = status.nodes.find((r) => r.node === node);
  if (row?.state !== 'running' || row.receiver !== 'streaming')
    throw new UsageError(
      `${node} is ${row?.state !== 'running' ? (row?.state ?? 'unknown') : `not streaming (${row.receiver ?? 'no WAL receiver'})`}: a fork starts from a standby that streams`,
      `tpa rejoin DIR ${node} brings it back first`,
    );
  const from = config.clusters.find((c) => c.name === leave.cluster)!;
  const machine = from.nodes.find((n) => n.name === node)!;
  const barmen = config.services.filter((s) => s.role === 'barman').map((s) => s.name);
  let service: ForkPlan['service'];
  let backupServer: string | undefined;
  if (config.backup.mode !== 'none' && from.backups !== false && barmen.length > 0) {
    if (config.backup.mode === 'exclusive') {
      let n = 1;
      while (used.includes(`backup-${n}`)) n++;
      service = { name: `backup-${n}`, role: 'barman' };
      backupServer = service.name;
    } else {
      backupServer = from.backup_server ?? barmen[0];
    }
  }
  const cluster: ForkPlan['cluster'] = {
    name: into,
    failover_manager: from.failover_manager,
    durability: 'async',
    pooler: from.pooler,
    ...(backupServer !== undefined ? { backup_server: backupServer } : {}),
    ...(from.postgres_settings ? { postgres_settings: from.postgres_settings } : {}),
    ...(from.postgres_package_version ? { postgres_package_version: from.postgres_package_version } : {}),
    nodes: [
      {
        name: node,
        role: 'primary',
        ...(machine.instance_type !== undefined ? { instance_type: machine.instance_type } : {}),
        ...(machine.volume_gb !== undefined ? { volume_gb: machine.volume_gb } : {}),
        ...(machine.postgres_settings ? { postgres_settings: machine.postgres_settings } : {}),
      },
    ],
  };
  return { leave, cluster, ...(service ? { service } : {}) };
}
