/**
 * Whether a switchover may start, and between which nodes, from the cluster as it is now
 * (tpa status' rows) and the primary's open transactions. Pure. Every refusal is a UsageError
 * (exit 2, nothing changed): a request that cannot be right (the primary itself, an unknown
 * node, a node of another cluster) or one the cluster is not ready for (a node down, the target
 * lagging or not streaming, a long transaction without --force); the message says which.
 */
import { UsageError } from '../../core/errors.ts';
import type { StatusReport, StatusRow } from '../status/index.ts';

/** the target must have received all but this much of the primary's WAL */
export const MAX_LAG_BYTES = 16 * 1024 * 1024;
/** a transaction open longer than this on the primary refuses the switchover (unless --force) */
export const LONG_TRANSACTION_S = 30;

export interface SwitchoverRequest {
  cluster?: string;
  to?: string;
  force?: boolean;
}

export interface OpenTransaction {
  pid: number;
  seconds: number;
  user: string;
  query: string;
}

export interface SwitchoverPlan {
  cluster: string;
  primary: StatusRow;
  target: StatusRow;
  /** the other standbys: they follow the target afterwards */
  siblings: StatusRow[];
}

const streamingFrom = (row: StatusRow, primary: string) =>
  row.state === 'running' &&
  row.role === 'replica' &&
  row.receiver === 'streaming' &&
  row.upstream === primary;

function clusterOf(report: StatusReport, req: SwitchoverRequest): string {
  const clusters = [...new Set(report.nodes.map((n) => n.cluster))];
  if (req.to !== undefined) {
    const row = report.nodes.find((n) => n.node === req.to);
    if (!row)
      throw new UsageError(
        `no node ${req.to} in this cluster group`,
        `the nodes are: ${report.nodes.map((n) => n.node).join(', ')}`,
      );
    if (req.cluster !== undefined && row.cluster !== req.cluster)
      throw new UsageError(
        `${req.to} is a node of cluster ${row.cluster}, not of ${req.cluster}`,
        'a switchover moves the primary within one cluster',
      );
    return row.cluster;
  }
  if (req.cluster !== undefined) {
    if (!clusters.includes(req.cluster))
      throw new UsageError(
        `no cluster ${req.cluster} in this group`,
        `the clusters are: ${clusters.join(', ')}`,
      );
    return req.cluster;
  }
  if (clusters.length !== 1)
    throw new UsageError('which cluster?', `give --cluster (one of ${clusters.join(', ')}) or --to NODE`);
  return clusters[0]!;
}

export function planSwitchover(
  report: StatusReport,
  req: SwitchoverRequest,
  openTransactions: OpenTransaction[] = [],
): SwitchoverPlan {
  const cluster = clusterOf(report, req);
  const rows = report.nodes.filter((n) => n.cluster === cluster);
  const primaryName = report.primaries[cluster];
  if (req.to !== undefined && req.to === primaryName)
    throw new UsageError(
      `${req.to} is the primary of cluster ${cluster} already`,
      'name a replica with --to',
    );
  const down = rows.filter((n) => n.state !== 'running');
  if (!primaryName)
    throw new UsageError(
      `cluster ${cluster} has no running primary: nothing to switch over from`,
      'tpa status shows each node; after a failover, tpa rejoin brings the old primary back',
    );
  if (down.length > 0)
    throw new UsageError(
      `every node of cluster ${cluster} must be up for a switchover: ${down.map((n) => `${n.node} is ${n.state}${n.fenced ? ' (fenced)' : ''}`).join(', ')}`,
      'start or rejoin them first (tpa status, tpa rejoin); nothing was changed',
    );
  const primary = rows.find((n) => n.node === primaryName)!;
  const replicas = rows.filter((n) => n.node !== primaryName);
  let target: StatusRow;
  if (req.to !== undefined) {
    target = replicas.find((n) => n.node === req.to)!;
    if (!streamingFrom(target, primaryName))
      throw new UsageError(
        `${target.node} does not stream from ${primaryName} (${target.role}, ${target.receiver ?? 'no WAL receiver'}${target.upstream ? `, upstream ${target.upstream}` : ''})`,
        'a switchover goes to a standby of the primary; nothing was changed',
      );
  } else {
    const candidates = replicas
      .filter((n) => streamingFrom(n, primaryName))
      .sort((a, b) => (a.lagBytes ?? Infinity) - (b.lagBytes ?? Infinity));
    if (candidates.length === 0)
      throw new UsageError(
        `no standby of cluster ${cluster} streams from ${primaryName}`,
        'tpa status shows the standbys; nothing was changed',
      );
    target = candidates[0]!;
  }
  if ((target.lagBytes ?? Infinity) > MAX_LAG_BYTES)
    throw new UsageError(
      `${target.node} lags ${target.lagBytes === undefined ? 'by an unknown amount' : `${Math.round(target.lagBytes / 1024)} kB`} behind ${primaryName} (at most ${MAX_LAG_BYTES / 1024 / 1024} MB for a switchover)`,
      'wait for it to catch up (tpa status shows the lag); nothing was changed',
    );
  const long = openTransactions.filter((t) => t.seconds >= LONG_TRANSACTION_S);
  if (long.length > 0 && !req.force)
    throw new UsageError(
      `${primaryName} has ${long.length} transaction${long.length === 1 ? '' : 's'} open for ${LONG_TRANSACTION_S} s or more (${long
        .slice(0, 3)
        .map((t) => `pid ${t.pid}, ${t.user}, ${Math.round(t.seconds)} s`)
        .join('; ')}): the switchover would end them`,
      'let them finish, or give --force to end them; nothing was changed',
    );
  return { cluster, primary, target, siblings: replicas.filter((n) => n.node !== target.node) };
}
