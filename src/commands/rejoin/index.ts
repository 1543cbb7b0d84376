/**
 * `tpa rejoin DIR NODE`: a former primary (fenced, or stopped after a failover) or a standby
 * that lost its way comes back as a standby of the primary of now, without ssh or edits by
 * hand. The failover manager's rejoin (repmgr: node rejoin with pg_rewind) first; when that
 * cannot work (pg_rewind refuses, the WAL it needs is gone), a fresh clone, the old data
 * directory kept aside. Checks everything before changing anything (target.ts); on the way
 * it reports each step; afterwards it waits until the node streams.
 */
import type { EventSink } from '../../core/events.ts';
import { OperationError, UsageError } from '../../core/errors.ts';
import { sh } from '../../core/shell.ts';
import { failoverManagerOf } from '../../components/failover/registry.ts';
import type { FailoverManager } from '../../components/failover/manager.ts';
import type { ClusterConfig } from '../../model/schema.ts';
import type { Transport } from '../../transport/transport.ts';
import { pgPathsFor, type PgPaths } from '../../components/postgres/paths.ts';
import { connectCluster } from '../../clusterdir/connect.ts';
import { clusterStatus } from '../status/index.ts';
import { nodeTarget, type NodeOperation } from './target.ts';

export interface NodeOperationReport {
  node: string;
  cluster: string;
  primary: string;
  /** how it was brought back */
  method: 'rewind' | 'clone';
  /** where the old data directory was kept (a clone after a failed rewind) */
  keptDataDir?: string;
  /** why the rewind did not do (then a clone did) */
  rewindFailed?: string;
  durationMs: number;
}

export interface NodeOperationRequest {
  dir: string;
  node: string;
  events: EventSink;
  /** how long to wait for the node to stream afterwards */
  waitMs?: number;
}

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');

/** waits until tpa status shows the node streaming from a node of its cluster */
export async function waitStreaming(dir: string, node: string, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  let last = '';
  for (;;) {
    const row = (await clusterStatus(dir)).nodes.find((n) => n.node === node);
    if (row?.role === 'replica' && row.receiver === 'streaming') return;
    last = row
      ? `${row.state}, ${row.role}${row.receiver ? `, ${row.receiver}` : ''}${row.detail ? `: ${row.detail}` : ''}`
      : 'not found';
    if (Date.now() > until)
      throw new OperationError(`${node} does not stream after ${Math.round(waitMs / 1000)} s (${last})`, {
        host: node,
        step: 'wait for streaming',
        hint: 'tpa status shows it; the server log of the node says why',
      });
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface BringBack {
  host: Transport;
  manager: FailoverManager;
  paths: PgPaths;
  cluster: ClusterConfig;
  node: { name: string; address: string };
  primary: { name: string; address: string };
}

/**
 * The node follows the primary of now: `rejoin` rewinds it (the manager's rejoin) and, when
 * that cannot work, clones it afresh keeping the old data directory aside; `rebuild` clones.
 * Shared by tpa rejoin, tpa rebuild and tpa switchover (the old primary).
 */
export async function bringBack(
  b: BringBack,
  op: NodeOperation,
): Promise<Pick<NodeOperationReport, 'method' | 'keptDataDir' | 'rewindFailed'>> {
  const rebuild = async (keepAsideAt?: string) => {
    await b.host.exec(
      b.manager.rebuildCommand!({
        paths: b.paths,
        cluster: b.cluster,
        nodeName: b.node.name,
        nodeAddress: b.node.address,
        primaryName: b.primary.name,
        primaryAddress: b.primary.address,
        ...(keepAsideAt !== undefined ? { keepAsideAt } : {}),
      }),
      { step: `${op}: clone ${b.node.name} from ${b.primary.name}`, timeoutMs: 60 * 60 * 1000 },
    );
  };
  if (op === 'rebuild') {
    await rebuild();
    return { method: 'clone' };
  }
  const r = await b.host.exec(sh`${b.manager.rejoinCommand!} ${b.primary.address}`, {
    step: `rejoin: rewind ${b.node.name} to follow ${b.primary.name}`,
    timeoutMs: 30 * 60 * 1000,
    check: false,
  });
  if (r.exitCode === 0) return { method: 'rewind' };
  const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' ');
  const aside = `${b.paths.dataDir}.tpa-rejoin-${stamp()}`;
  await rebuild(aside);
  return { method: 'clone', keptDataDir: aside, rewindFailed: why };
}

export async function runNodeOperation(
  req: NodeOperationRequest,
  op: NodeOperation,
): Promise<NodeOperationReport> {
  const started = Date.now();
  const target = nodeTarget(await clusterStatus(req.dir), req.node, op);
  const access = await connectCluster(req.dir, { events: req.events });
  try {
    const cluster = access.config.clusters.find((c) => c.name === target.cluster)!;
    const manager = failoverManagerOf(cluster);
    if (!manager.rejoinCommand || !manager.rebuildCommand)
      throw new UsageError(
        `cluster ${cluster.name} runs failover_manager ${manager.name}: it has no standbys to ${op}`,
      );
    const paths = pgPathsFor(access.config);
    const host = access.pool.forHost(req.node);
    // a second writable server (a primary that is not the primary of now) stops first
    if (op === 'rejoin' && target.node.state === 'running') {
      await host.exec(sh`systemctl stop ${paths.service}`, { step: 'rejoin: stop the server' });
    }
    // The manager's daemon on the node stops for the operation and starts afresh after it:
    // one that watched this node fail (repmgrd in degraded monitoring of a former primary)
    // may rewrite its record while it comes back, and keep watching no upstream at all;
    // then, at the next failure, the others wait for it forever when it is the candidate.
    await host.exec(manager.pause, { step: `${op}: stop the failover manager on ${req.node}` });
    const startManager = () =>
      host.exec(manager.resume, { step: `${op}: start the failover manager on ${req.node}` });
    let out: Awaited<ReturnType<typeof bringBack>>;
    try {
      out = await bringBack(
        {
          host,
          manager,
          paths,
          cluster,
          node: { name: req.node, address: target.node.address },
          primary: { name: target.primary.node, address: target.primary.address },
        },
        op,
      );
    } catch (e) {
      // the operation's own error is the one to report
      await startManager().catch(() => undefined);
      throw e;
    }
    await startManager();
    await waitStreaming(req.dir, req.node, req.waitMs ?? 120_000);
    return {
      node: req.node,
      cluster: cluster.name,
      primary: target.primary.node,
      ...out,
      durationMs: Date.now() - started,
    };
  } finally {
    await access.close();
  }
}
