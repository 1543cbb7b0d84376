/**
 * What `tpa rejoin` and `tpa rebuild` may do to a node, decided from the cluster as it is now
 * (tpa status' rows) before anything is changed. Pure: every refusal is a UsageError (exit 2)
 * that says why and what to run instead.
 */
import { OperationError, UsageError } from '../../core/errors.ts';
import type { StatusReport, StatusRow } from '../status/index.ts';

export type NodeOperation = 'rejoin' | 'rebuild';

export interface NodeTarget {
  cluster: string;
  node: StatusRow;
  /** the primary of now, which the node will follow */
  primary: StatusRow;
}

/** running in recovery and streaming from some node of the cluster (cascaded ones too) */
function isHealthyStandby(row: StatusRow): boolean {
  return row.state === 'running' && row.role === 'replica' && row.receiver === 'streaming' && !!row.upstream;
}

export function nodeTarget(report: StatusReport, nodeName: string, op: NodeOperation): NodeTarget {
  const row = report.nodes.find((n) => n.node === nodeName);
  if (!row) {
    const names = report.nodes.map((n) => n.node).join(', ');
    throw new UsageError(`no node ${nodeName} in this cluster group`, `the nodes are: ${names}`);
  }
  const primaryName = report.primaries[row.cluster];
  if (primaryName === nodeName) {
    throw new UsageError(
      `${nodeName} is the primary of cluster ${row.cluster} now: there is nothing to ${op} it to`,
      op === 'rejoin'
        ? 'rejoin is for a former primary or a standby that lost its way'
        : 'a primary is never rebuilt; move the primary away first (a switchover), then rebuild the node',
    );
  }
  if (row.state === 'unreachable') {
    throw new OperationError(`${nodeName} cannot be reached: ${row.detail ?? 'no answer'}`, {
      host: nodeName,
      step: `${op}: reach the node`,
      hint: 'start the machine (tpa status shows it), then run this again; nothing was changed',
    });
  }
  if (!primaryName) {
    throw new OperationError(`cluster ${row.cluster} has no running primary: there is nothing to follow`, {
      step: `${op}: find the primary`,
      hint: 'tpa status shows each node; nothing was changed',
    });
  }
  const primary = report.nodes.find((n) => n.node === primaryName)!;
  if (op === 'rejoin' && isHealthyStandby(row)) {
    throw new UsageError(
      `${nodeName} is a healthy standby (streaming from ${row.upstream}): there is nothing to rejoin`,
      'a standby that is broken in another way is re-cloned by tpa rebuild',
    );
  }
  return { cluster: row.cluster, node: row, primary };
}
