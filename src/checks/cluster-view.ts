/**
 * A cluster as observed: its nodes from config and inventory, what each one answered, and
 * who is primary and whom each replica should stream from. Pure; shared by test and status.
 */
import type { ClusterConfig, ClusterGroupConfig } from '../model/schema.ts';
import type { Inventory, InventoryHost } from '../platforms/platform.ts';
import { lsnBytes, type NodeObservation } from './observation.ts';

export interface Observed {
  config: ClusterGroupConfig;
  inventory: Inventory;
  /** node -> what it answered (reachable nodes only) */
  observations: Record<string, NodeObservation>;
  /** node -> why it could not be reached */
  unreachable: Record<string, string>;
}

export interface ClusterView {
  cluster: ClusterConfig;
  /** the cluster's nodes in config order, with their inventory entries */
  nodes: InventoryHost[];
  obs: (node: string) => NodeObservation | undefined;
  unreachable: (node: string) => string | undefined;
  /** nodes whose postgres answers and is not in recovery */
  primaries: string[];
  /** the primary when there is exactly one */
  primary: string | undefined;
}

export function clusterViews(o: Observed): ClusterView[] {
  return o.config.clusters.map((cluster) => {
    const nodes = cluster.nodes.flatMap((n) => o.inventory.hosts.filter((h) => h.name === n.name));
    const primaries = nodes
      .filter((n) => {
        const pg = o.observations[n.name]?.pg;
        return pg !== undefined && !pg.inRecovery;
      })
      .map((n) => n.name);
    return {
      cluster,
      nodes,
      obs: (node) => o.observations[node],
      unreachable: (node) => o.unreachable[node],
      primaries,
      primary: primaries.length === 1 ? primaries[0] : undefined,
    };
  });
}

/**
 * Whom a replica should stream from: its configured upstream, or else the primary of now
 * (so after a failover the replicas that followed the new primary are right).
 */
export function expectedUpstream(view: ClusterView, node: string): string | undefined {
  const configured = view.cluster.nodes.find((n) => n.name === node)?.upstream;
  if (configured !== undefined && configured !== node) return configured;
  return view.primary;
}

export function nodeByAddress(
  view: ClusterView,
  address: string | null | undefined,
): InventoryHost | undefined {
  if (!address) return undefined;
  return view.nodes.find((n) => n.address === address);
}

export function addressOf(view: ClusterView, node: string | undefined): string | undefined {
  return node === undefined ? undefined : view.nodes.find((n) => n.name === node)?.address;
}

/** The node a replica streams from now (by the sender address of its WAL receiver). */
export function actualUpstream(view: ClusterView, node: string): string | undefined {
  const wr = view.obs(node)?.pg?.walReceiver;
  if (!wr?.senderHost) return undefined;
  return nodeByAddress(view, wr.senderHost)?.name ?? wr.senderHost;
}

export interface Lag {
  /** WAL the primary has written that this replica has not replayed yet */
  bytes?: number;
  /** replay_lag reported by the upstream (0 when it reports none: idle and caught up) */
  seconds?: number;
}

export function replicaLag(view: ClusterView, node: string): Lag {
  const me = view.obs(node)?.pg;
  if (!me?.inRecovery) return {};
  const lag: Lag = {};
  const primaryLsn = lsnBytes(view.primary ? view.obs(view.primary)?.pg?.lsn : undefined);
  const mine = lsnBytes(me.lsn);
  if (primaryLsn !== undefined && mine !== undefined) {
    const d = primaryLsn - mine;
    lag.bytes = d > 0n ? Number(d) : 0;
  }
  const up = actualUpstream(view, node);
  const address = addressOf(view, node);
  const row = up ? view.obs(up)?.pg?.replication.find((r) => r.clientAddr === address) : undefined;
  if (row) lag.seconds = row.replayLagS ?? 0;
  return lag;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}
