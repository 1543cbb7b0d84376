/**
 * Which Pooler a cluster runs, by clusters[].pooler. Adding a pooler is its folder plus one
 * line here. Implementations are built on first use, because their own modules import
 * postgres modules that ask this registry.
 */
import type { ClusterConfig } from '../../model/schema.ts';
import { noPooler, type Pooler } from './pooler.ts';
import { pgbouncerPooler } from './pgbouncer/pooler.ts';

const IMPLEMENTATIONS: Record<string, () => Pooler> = {
  pgbouncer: pgbouncerPooler,
  none: () => noPooler,
};

const built = new Map<string, Pooler>();

export function poolerOf(cluster: Pick<ClusterConfig, 'pooler'>): Pooler {
  const name = cluster.pooler;
  const make = IMPLEMENTATIONS[name];
  if (!make) return IMPLEMENTATIONS.none!();
  if (!built.has(name)) built.set(name, make());
  return built.get(name)!;
}

/** every implemented pooler, for what lists them all (`tpa info`'s packages) */
export function allPoolers(): Pooler[] {
  return Object.keys(IMPLEMENTATIONS).map((name) => poolerOf({ pooler: name as never }));
}
