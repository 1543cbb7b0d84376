/**
 * Where each node stands in its cluster, as repmgr and pgbouncer need it: repmgr node ids,
 * failover priorities, upstreams and cascading depth (from config), and the *current* primary
 * (from facts, so that a deploy after a failover follows the real primary, not config.yml).
 * Pure.
 */
import type { ClusterConfig, ClusterGroupConfig, NodeConfig } from '../model/schema.ts';
import type { HostFacts } from '../plan/types.ts';
import type { InventoryHost } from '../platforms/platform.ts';
import { PG_PORT } from './postgres/paths.ts';

export function clusterOfHost(host: InventoryHost, config: ClusterGroupConfig): ClusterConfig {
  const cluster = config.clusters.find((c) => c.name === host.cluster);
  if (!cluster) throw new Error(`host ${host.name} belongs to no cluster of the configuration`);
  return cluster;
}

function nodeIndex(cluster: ClusterConfig, name: string): number {
  const i = cluster.nodes.findIndex((n) => n.name === name);
  if (i < 0) throw new Error(`node ${name} is not in cluster ${cluster.name}`);
  return i;
}

/**
 * repmgr node_id: `node_id` when config.yml sets it, else the node's position in its cluster's
 * `nodes` list plus one (main-1 -> 1). Ids only need to be unique within a cluster (each
 * cluster has its own repmgr database) and must never change for a running node: tpa
 * remove-node writes `node_id` for the nodes whose positions move (rules/topology.ts checks
 * that ids are unique).
 */
export function repmgrNodeId(cluster: ClusterConfig, name: string): number {
  const i = nodeIndex(cluster, name);
  return cluster.nodes[i]!.node_id ?? i + 1;
}

export const DEFAULT_PRIORITY_TOP = 100;

/**
 * repmgr priority (the preferred promotion candidate has the highest value; 0 = never
 * promote): `overrides[name]` when given, otherwise 100 minus the node's position, so the
 * first replica in the list is the preferred candidate (never below 1).
 */
export function repmgrPriority(
  cluster: ClusterConfig,
  name: string,
  overrides: Record<string, number> = {},
): number {
  const given = overrides[name];
  if (given !== undefined) return given;
  return Math.max(1, DEFAULT_PRIORITY_TOP - nodeIndex(cluster, name));
}

export function configPrimary(cluster: ClusterConfig): NodeConfig {
  const primary = cluster.nodes.find((n) => n.role === 'primary');
  if (!primary) throw new Error(`cluster ${cluster.name} has no primary`);
  return primary;
}

/** Cascading depth from config: 0 for the primary, 1 for its replicas, 2 for theirs... */
export function upstreamDepth(cluster: ClusterConfig, name: string): number {
  let depth = 0;
  let node = cluster.nodes[nodeIndex(cluster, name)];
  const seen = new Set<string>();
  while (node && node.role !== 'primary') {
    if (seen.has(node.name)) throw new Error(`upstream cycle at ${node.name} in cluster ${cluster.name}`);
    seen.add(node.name);
    depth += 1;
    const up = node.upstream ?? configPrimary(cluster).name;
    node = cluster.nodes.find((n) => n.name === up);
  }
  return depth;
}

// ---------------------------------------------------------------------------------------
// The current primary, from facts.

export interface PrimaryState {
  running: boolean;
  inRecovery: boolean;
  /** 0 when unknown */
  timeline: number;
  systemId?: string;
}

/**
 * The server's role now, from the postgres facts (one query with the rest of them). The first
 * 8 hex digits of a primary's current WAL file are the timeline it writes on: after a
 * failover the promoted node has a higher one than a former primary that comes back unfenced
 * (started by hand), which settles who the primary is.
 */
export function parsePrimaryState(facts: HostFacts | undefined): PrimaryState {
  const pg = facts?.postgres;
  if (!pg?.running) return { running: false, inRecovery: false, timeline: 0 };
  const wal = !pg.inRecovery && pg.walFile && /^[0-9A-Fa-f]{24}$/.test(pg.walFile) ? pg.walFile : undefined;
  return {
    running: true,
    inRecovery: pg.inRecovery,
    timeline: wal ? parseInt(wal.slice(0, 8), 16) : 0,
    ...(pg.systemIdentifier ? { systemId: pg.systemIdentifier } : {}),
  };
}

/**
 * The system identifier of the cluster: the one most running nodes share (a primary and its
 * standbys share one; Debian's empty cluster on a replica not cloned yet has its own). On a
 * tie, one a standby has (a standby is always a clone), else the configured primary's.
 */
function clusterSystemIdOf(cluster: ClusterConfig, states: Map<string, PrimaryState>): string | undefined {
  const score = new Map<string, number>();
  for (const s of states.values()) {
    if (s.systemId) score.set(s.systemId, (score.get(s.systemId) ?? 0) + 2 + (s.inRecovery ? 1 : 0));
  }
  const top = Math.max(0, ...score.values());
  const leaders = [...score.entries()].filter(([, n]) => n === top).map(([id]) => id);
  if (leaders.length <= 1) return leaders[0];
  const configured = states.get(configPrimary(cluster).name)?.systemId;
  return configured && leaders.includes(configured) ? configured : undefined;
}

/**
 * The node that is the primary now: among the cluster's nodes whose facts show a running
 * server of this cluster (its system identifier) that is not in recovery, the one on the
 * highest timeline. Config's primary when no node qualifies (first deploy, primary down) or
 * when two tie (then config is the tiebreaker, else the first in config order).
 */
export function currentPrimaryName(cluster: ClusterConfig, facts: Record<string, HostFacts>): string {
  const fallback = configPrimary(cluster).name;
  const states = new Map(cluster.nodes.map((n) => [n.name, parsePrimaryState(facts[n.name])]));
  const sysid = clusterSystemIdOf(cluster, states);
  let best: string[] = [];
  let bestTimeline = -1;
  for (const node of cluster.nodes) {
    const s = states.get(node.name)!;
    if (!s.running || s.inRecovery) continue;
    if (sysid && s.systemId && s.systemId !== sysid) continue;
    if (s.timeline > bestTimeline) {
      best = [node.name];
      bestTimeline = s.timeline;
    } else if (s.timeline === bestTimeline) best.push(node.name);
  }
  if (best.length === 0) return fallback;
  if (best.length === 1) return best[0]!;
  return best.includes(fallback) ? fallback : best[0]!;
}

export function hostByName(hosts: InventoryHost[], name: string): InventoryHost {
  const h = hosts.find((x) => x.name === name);
  if (!h) throw new Error(`host ${name} is not in the inventory (run tpa provision)`);
  return h;
}

/**
 * Whom a replica clones from and follows: its configured upstream, or else the current
 * primary. A node whose configured upstream is itself the current primary still gets it.
 */
export function cloneUpstreamName(
  cluster: ClusterConfig,
  name: string,
  facts: Record<string, HostFacts>,
): string {
  const node = cluster.nodes[nodeIndex(cluster, name)]!;
  return node.upstream ?? currentPrimaryName(cluster, facts);
}

export { PG_PORT };
