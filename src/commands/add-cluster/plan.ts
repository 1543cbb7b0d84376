/**
 * The cluster `tpa add-cluster` adds to config.yml, from configure's options, checked against
 * the group before anything changes. Pure; refusals are UsageErrors (exit 2). config.yml's own
 * rules (instance types, names, failover manager and replicas) are checked when the edit is
 * validated.
 */
import { UsageError } from '../../core/errors.ts';
import {
  DEFAULT_FAILOVER_MANAGER,
  DEFAULT_POOLER,
  type BACKUP_MODES,
  type ClusterGroupConfig,
  type DURABILITIES,
  type FAILOVER_MANAGERS,
  type POOLERS,
} from '../../model/schema.ts';
import { groupNames } from '../add-replica/plan.ts';

export interface AddClusterInput {
  name: string;
  replicas?: number;
  durability?: (typeof DURABILITIES)[number];
  failoverManager?: (typeof FAILOVER_MANAGERS)[number];
  pooler?: (typeof POOLERS)[number];
  /** default: shared when the group has a backup server, else none */
  backup?: (typeof BACKUP_MODES)[number];
  instanceType?: string;
}

export interface AddClusterPlan {
  cluster: Record<string, unknown> & { name: string; nodes: { name: string; role: string }[] };
  /** a backup server of its own (backup: exclusive) */
  service?: { name: string; role: 'barman' };
}

export function planAddCluster(config: ClusterGroupConfig, input: AddClusterInput): AddClusterPlan {
  if (config.clusters.some((c) => c.name === input.name))
    throw new UsageError(`this group has a cluster ${input.name} already`, 'pick another name');
  const replicas = input.replicas ?? 1;
  const names = Array.from({ length: replicas + 1 }, (_, i) => `${input.name}-${i + 1}`);
  const used = groupNames(config);
  const clash = names.filter((n) => used.includes(n));
  if (clash.length)
    throw new UsageError(
      `${clash.join(', ')} ${clash.length === 1 ? 'is' : 'are'} already a host of this group`,
      'pick another cluster name',
    );
  const barmen = (config.services ?? []).filter((s) => s.role === 'barman').map((s) => s.name);
  const backup = input.backup ?? (barmen.length ? 'shared' : 'none');
  if (backup === 'shared' && barmen.length === 0)
    throw new UsageError(
      'this group has no backup server to share',
      'use --backup exclusive (a server of its own) or --backup none',
    );
  let service: AddClusterPlan['service'];
  if (backup === 'exclusive') {
    let n = 1;
    while (used.includes(`backup-${n}`)) n++;
    service = { name: `backup-${n}`, role: 'barman' };
  }
  const backupServer = backup === 'shared' ? barmen[0] : service?.name;
  return {
    cluster: {
      name: input.name,
      failover_manager: input.failoverManager ?? (replicas === 0 ? 'none' : DEFAULT_FAILOVER_MANAGER),
      durability: input.durability ?? 'async',
      pooler: input.pooler ?? DEFAULT_POOLER,
      ...(backupServer ? { backup_server: backupServer } : {}),
      nodes: names.map((name, i) => ({
        name,
        role: i === 0 ? 'primary' : 'replica',
        ...(input.instanceType !== undefined ? { instance_type: input.instanceType } : {}),
      })),
    },
    ...(service ? { service } : {}),
  };
}
