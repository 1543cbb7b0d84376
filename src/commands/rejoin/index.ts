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
import { pgPathsFor } from '../../components/postgres/paths.ts';
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
    const base = { node: req.node, cluster: cluster.name, primary: target.primary.node };
    const rebuild = async (keepAsideAt?: string) => {
      await host.exec(
        manager.rebuildCommand!({
          paths,
          cluster,
          nodeName: req.node,
          nodeAddress: target.node.address,
          primaryName: target.primary.node,
          primaryAddress: target.primary.address,
          ...(keepAsideAt !== undefined ? { keepAsideAt } : {}),
        }),
        { step: `${op}: clone ${req.node} from ${target.primary.node}`, timeoutMs: 60 * 60 * 1000 },
      );
    };
    if (op === 'rebuild') {
      await rebuild();
      await waitStreaming(req.dir, req.node, req.waitMs ?? 120_000);
      return { ...base, method: 'clone', durationMs: Date.now() - started };
    }
    // a second writable server (a primary that is not the primary of now) stops first
    if (target.node.state === 'running') {
      await host.exec(sh`systemctl stop ${paths.service}`, { step: 'rejoin: stop the server' });
    }
    const r = await host.exec(sh`${manager.rejoinCommand} ${target.primary.address}`, {
      step: `rejoin: rewind ${req.node} to follow ${target.primary.node}`,
      timeoutMs: 30 * 60 * 1000,
      check: false,
    });
    if (r.exitCode === 0) {
      await waitStreaming(req.dir, req.node, req.waitMs ?? 120_000);
      return { ...base, method: 'rewind', durationMs: Date.now() - started };
    }
    const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' ');
    const aside = `${paths.dataDir}.tpa-rejoin-${stamp()}`;
    await rebuild(aside);
    await waitStreaming(req.dir, req.node, req.waitMs ?? 120_000);
    return {
      ...base,
      method: 'clone',
      keptDataDir: aside,
      rewindFailed: why,
      durationMs: Date.now() - started,
    };
  } finally {
    await access.close();
  }
}
