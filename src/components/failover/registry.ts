/**
 * Which FailoverManager a cluster runs, by clusters[].failover_manager. Adding a manager is
 * its folder plus one line here. Implementations are built on first use, because their own
 * modules import postgres modules that ask this registry.
 */
import type { ClusterConfig } from '../../model/schema.ts';
import { noFailoverManager, type FailoverManager } from './manager.ts';
import { repmgrFailoverManager } from './repmgr/manager.ts';

const IMPLEMENTATIONS: Record<string, () => FailoverManager> = {
  repmgr: repmgrFailoverManager,
  none: () => noFailoverManager,
};

const built = new Map<string, FailoverManager>();

export function failoverManagerOf(cluster: Pick<ClusterConfig, 'failover_manager'>): FailoverManager {
  const name = cluster.failover_manager;
  const make = IMPLEMENTATIONS[name];
  // patroni has no folder yet (config validation refuses it before a deploy): like any name
  // without an implementation, it contributes nothing, as before the registry existed
  if (!make) return IMPLEMENTATIONS.none!();
  if (!built.has(name)) built.set(name, make());
  return built.get(name)!;
}

/** every implemented manager, for what lists them all (`tpa info`'s packages) */
export function allFailoverManagers(): FailoverManager[] {
  return Object.keys(IMPLEMENTATIONS).map((name) => failoverManagerOf({ failover_manager: name as never }));
}
