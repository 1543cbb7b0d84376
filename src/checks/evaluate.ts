/**
 * The checks of `tpa test`, each a small named function from what was observed to results.
 * Pure. A check that cannot be judged because something it needs already failed (the node is
 * unreachable, postgres is down, there is no single primary) is `skip`, never `pass`.
 * The failover manager and the pooler bring their own checks (their folders, checks/kit.ts);
 * the client checks are in client-checks.ts.
 */
import type { ClusterConfig } from '../model/schema.ts';
import { allFailoverManagers, failoverManagerOf } from '../components/failover/registry.ts';
import { allPoolers, poolerOf } from '../components/pooler/registry.ts';
import { tlsRequired, wrongPasswordRefused } from './client-checks.ts';
import {
  actualUpstream,
  addressOf,
  clusterViews,
  expectedUpstream,
  formatBytes,
  replicaLag,
  type ClusterView,
  type Observed,
} from './cluster-view.ts';
import {
  perNode,
  result,
  type Check,
  type CheckDescription,
  type CheckResult,
  type CheckStatus,
} from './kit.ts';
import type { ReplicaMarkers } from './markers.ts';

export type { CheckDescription, CheckResult, CheckStatus } from './kit.ts';

export interface Thresholds {
  maxLagBytes: number;
  maxLagSeconds: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { maxLagBytes: 16 * 1024 * 1024, maxLagSeconds: 30 };

/** Markers of one cluster: what was written where, and what each replica saw. */
export interface MarkerEvidence {
  /** source (`primary`, `<pooler>@main-2`) -> marker id, for the writes that succeeded */
  written: Record<string, string>;
  primaryWrite: { ok: boolean; detail: string };
  /** replica -> markers it saw, or why it could not be asked */
  replicas: Record<string, ReplicaMarkers | { error: string }>;
  timeoutMs: number;
}

export interface Evidence extends Observed {
  thresholds: Thresholds;
  /** cluster name -> markers (absent when no marker round ran, e.g. no single primary) */
  markers: Record<string, MarkerEvidence>;
}

export const reachable: Check = {
  id: 'reachable',
  title: 'node reachable over SSH',
  run: (view) =>
    view.nodes.map((n) => {
      const why = view.unreachable(n.name);
      return why === undefined
        ? result('reachable', view, n.name, 'pass', `${n.address}:${n.sshPort}`)
        : result('reachable', view, n.name, 'fail', why);
    }),
};

export const postgresRunning = perNode('postgres-running', 'postgres running and answering', (view, node) => {
  const o = view.obs(node)!;
  if (o.pg)
    return ['pass', `PostgreSQL ${o.pg.version.split(' ')[0]}, ${o.pg.inRecovery ? 'standby' : 'primary'}`];
  const unit = Object.entries(o.services).find(([u]) => u.startsWith('postgresql@'));
  return ['fail', `${unit ? `${unit[0]} is ${unit[1]}; ` : ''}${o.fenced ?? o.pgError ?? 'no answer'}`];
});

export const onePrimary: Check = {
  id: 'one-primary',
  title: 'exactly one primary',
  run: (view) => {
    const n = view.primaries.length;
    if (n === 1) return [result('one-primary', view, undefined, 'pass', `${view.primary} is the primary`)];
    const down = view.nodes.filter((x) => !view.obs(x.name)?.pg).map((x) => x.name);
    const detail =
      n === 0
        ? `no node is a primary${down.length ? ` (not answering: ${down.join(', ')})` : ''}`
        : `${n} primaries: ${view.primaries.join(', ')}`;
    return [result('one-primary', view, undefined, 'fail', detail)];
  },
};

/** the nodes that should be replicas now: every node but the primary */
function replicas(view: ClusterView): string[] {
  return view.nodes.map((n) => n.name).filter((n) => n !== view.primary);
}

function perReplica(
  id: string,
  title: string,
  fn: (view: ClusterView, node: string, ev: Evidence) => [CheckStatus, string],
): Check<Evidence> {
  return {
    id,
    title,
    run: (view, ev) =>
      replicas(view).map((node) => {
        if (view.unreachable(node) !== undefined) return result(id, view, node, 'skip', 'node unreachable');
        if (!view.obs(node)?.pg) return result(id, view, node, 'skip', 'postgres is not answering');
        if (!view.primary) return result(id, view, node, 'skip', 'no single primary');
        const [status, detail] = fn(view, node, ev);
        return result(id, view, node, status, detail);
      }),
  };
}

export const replicaStreaming = perReplica(
  'replica-streaming',
  'replica streaming from its upstream',
  (view, node) => {
    const pg = view.obs(node)!.pg!;
    if (!pg.inRecovery) return ['fail', 'not a standby (a second primary)'];
    const want = expectedUpstream(view, node);
    const wantAddress = addressOf(view, want);
    const wr = pg.walReceiver;
    if (!wr) return ['fail', `no WAL receiver: not streaming (expected from ${want ?? '?'})`];
    const actual = actualUpstream(view, node);
    const from = `${actual ?? '?'} (${wr.senderHost ?? '?'})`;
    if (wr.status !== 'streaming') return ['fail', `WAL receiver ${wr.status}, from ${from}`];
    if (wantAddress === undefined || wr.senderHost !== wantAddress) {
      return ['fail', `streaming from ${from}, expected ${want ?? '?'} (${wantAddress ?? '?'})`];
    }
    return ['pass', `streaming from ${from}, timeline ${wr.receivedTli ?? '?'}`];
  },
);

export const replicationLag = perReplica(
  'replication-lag',
  'replication lag under the limit',
  (view, node, ev) => {
    const lag = replicaLag(view, node);
    const t = ev.thresholds;
    if (lag.bytes === undefined && lag.seconds === undefined) return ['skip', 'lag unknown (not streaming)'];
    const parts = [
      lag.bytes !== undefined ? `${formatBytes(lag.bytes)} behind` : 'bytes unknown',
      lag.seconds !== undefined ? `replay lag ${lag.seconds.toFixed(1)} s` : 'replay lag unknown',
    ];
    const over: string[] = [];
    if ((lag.bytes ?? 0) > t.maxLagBytes) over.push(`over ${formatBytes(t.maxLagBytes)}`);
    if ((lag.seconds ?? 0) > t.maxLagSeconds) over.push(`over ${t.maxLagSeconds} s`);
    return over.length ? ['fail', `${parts.join(', ')}: ${over.join(', ')}`] : ['pass', parts.join(', ')];
  },
);

export const markerWrite: Check<Evidence> = {
  id: 'marker-write',
  title: 'marker row written on the primary',
  run: (view, ev) => {
    const m = ev.markers[view.cluster.name];
    if (!view.primary || !m) return [result('marker-write', view, undefined, 'skip', 'no single primary')];
    return [
      result('marker-write', view, view.primary, m.primaryWrite.ok ? 'pass' : 'fail', m.primaryWrite.detail),
    ];
  },
};

export const markerReplicated = perReplica(
  'marker-replicated',
  'marker rows replicated',
  (view, node, ev) => {
    const m = ev.markers[view.cluster.name];
    if (!m) return ['skip', 'no markers written'];
    const expected = Object.entries(m.written);
    if (expected.length === 0) return ['skip', 'no marker could be written'];
    const seen = m.replicas[node];
    if (!seen) return ['skip', 'not asked'];
    if ('error' in seen) return ['fail', seen.error];
    const missing = expected.filter(([, id]) => !seen.found.includes(id)).map(([src]) => src);
    if (missing.length) {
      return [
        'fail',
        `missing after ${(m.timeoutMs / 1000).toFixed(0)} s: rows written via ${missing.join(', ')}`,
      ];
    }
    return ['pass', `${expected.length} rows seen within ${(seen.waitedMs / 1000).toFixed(1)} s`];
  },
);

/** the pooler's and the failover manager's checks are reported between these two parts */
const FIRST: Check<Evidence>[] = [
  reachable,
  postgresRunning,
  onePrimary,
  replicaStreaming,
  replicationLag,
  markerWrite,
  markerReplicated,
];
const LAST: Check<Evidence>[] = [tlsRequired, wrongPasswordRefused];

/** a cluster's checks in report order */
function checksOf(cluster: ClusterConfig): Check<Evidence>[] {
  return [...FIRST, ...poolerOf(cluster).checks, ...failoverManagerOf(cluster).checks, ...LAST];
}

/**
 * Every check, in the order they are reported: those of every implemented pooler and manager
 * included. An array, not a function: commands append theirs (backup checks, restore drill).
 */
export const CHECKS: CheckDescription[] = [
  ...FIRST,
  ...allPoolers().flatMap((p) => p.checks),
  ...allFailoverManagers().flatMap((m) => m.checks),
  ...LAST,
].map(({ id, title }) => ({ id, title }));

export function evaluate(ev: Evidence): CheckResult[] {
  const results: CheckResult[] = [];
  for (const view of clusterViews(ev))
    for (const check of checksOf(view.cluster)) results.push(...check.run(view, ev));
  return results;
}

/**
 * ok only when something was checked, nothing failed and nothing was left unchecked — a check
 * that could not run is not a pass, unless the caller accepts that (`--allow-skips`).
 */
export function summarize(
  results: CheckResult[],
  { allowSkips = false } = {},
): { pass: number; fail: number; skip: number; ok: boolean } {
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  const fail = count('fail');
  const skip = count('skip');
  return {
    pass: count('pass'),
    fail,
    skip,
    ok: fail === 0 && (skip === 0 || allowSkips) && results.length > 0,
  };
}
