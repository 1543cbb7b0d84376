/**
 * The checks of `tpa test`, each a small named function from what was observed to results.
 * Pure. A check that cannot be judged because something it needs already failed (the node is
 * unreachable, postgres is down, there is no single primary) is `skip`, never `pass`.
 */
import { REPMGRD_UNIT } from '../components/repmgr/conf.ts';
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
import type { ReplicaMarkers } from './markers.ts';
import { errorLine, type ClientProbe } from './observe.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  /** stable id, e.g. `replica-streaming` */
  check: string;
  cluster: string;
  node?: string;
  status: CheckStatus;
  detail: string;
}

export interface Thresholds {
  maxLagBytes: number;
  maxLagSeconds: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { maxLagBytes: 16 * 1024 * 1024, maxLagSeconds: 30 };

/** Markers of one cluster: what was written where, and what each replica saw. */
export interface MarkerEvidence {
  /** source (`primary`, `pgbouncer@main-2`) -> marker id, for the writes that succeeded */
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

export interface CheckDescription {
  id: string;
  title: string;
}

/** Every check, in the order they are reported. */
export const CHECKS: CheckDescription[] = [
  { id: 'reachable', title: 'node reachable over SSH' },
  { id: 'postgres-running', title: 'postgres running and answering' },
  { id: 'one-primary', title: 'exactly one primary' },
  { id: 'replica-streaming', title: 'replica streaming from its upstream' },
  { id: 'replication-lag', title: 'replication lag under the limit' },
  { id: 'marker-write', title: 'marker row written on the primary' },
  { id: 'marker-replicated', title: 'marker rows replicated' },
  { id: 'pgbouncer-write', title: 'write through pgbouncer lands on the primary' },
  { id: 'repmgrd-running', title: 'repmgrd running' },
  { id: 'repmgr-cluster-show', title: 'repmgr cluster show agrees' },
  { id: 'tls-required', title: 'connections without TLS refused' },
  { id: 'wrong-password-refused', title: 'wrong password refused' },
];

type Check = (view: ClusterView, ev: Evidence) => CheckResult[];

function result(
  check: string,
  view: ClusterView,
  node: string | undefined,
  status: CheckStatus,
  detail: string,
): CheckResult {
  return { check, cluster: view.cluster.name, ...(node !== undefined ? { node } : {}), status, detail };
}

/** per node: skip when the node could not be reached */
function perNode(
  check: string,
  fn: (view: ClusterView, node: string, ev: Evidence) => [CheckStatus, string],
  applies: (view: ClusterView) => boolean = () => true,
): Check {
  return (view, ev) => {
    if (!applies(view)) return [];
    return view.nodes.map((n) => {
      const why = view.unreachable(n.name);
      if (why !== undefined) return result(check, view, n.name, 'skip', 'node unreachable');
      const [status, detail] = fn(view, n.name, ev);
      return result(check, view, n.name, status, detail);
    });
  };
}

const usesPgbouncer = (v: ClusterView) => v.cluster.pooler === 'pgbouncer';
const usesRepmgr = (v: ClusterView) => v.cluster.failover_manager === 'repmgr';

export const reachable: Check = (view) =>
  view.nodes.map((n) => {
    const why = view.unreachable(n.name);
    return why === undefined
      ? result('reachable', view, n.name, 'pass', `${n.address}:${n.sshPort}`)
      : result('reachable', view, n.name, 'fail', why);
  });

export const postgresRunning = perNode('postgres-running', (view, node) => {
  const o = view.obs(node)!;
  if (o.pg)
    return ['pass', `PostgreSQL ${o.pg.version.split(' ')[0]}, ${o.pg.inRecovery ? 'standby' : 'primary'}`];
  const unit = Object.entries(o.services).find(([u]) => u.startsWith('postgresql@'));
  return ['fail', `${unit ? `${unit[0]} is ${unit[1]}; ` : ''}${o.fenced ?? o.pgError ?? 'no answer'}`];
});

export const onePrimary: Check = (view) => {
  const n = view.primaries.length;
  if (n === 1) return [result('one-primary', view, undefined, 'pass', `${view.primary} is the primary`)];
  const down = view.nodes.filter((x) => !view.obs(x.name)?.pg).map((x) => x.name);
  const detail =
    n === 0
      ? `no node is a primary${down.length ? ` (not answering: ${down.join(', ')})` : ''}`
      : `${n} primaries: ${view.primaries.join(', ')}`;
  return [result('one-primary', view, undefined, 'fail', detail)];
};

/** the nodes that should be replicas now: every node but the primary */
function replicas(view: ClusterView): string[] {
  return view.nodes.map((n) => n.name).filter((n) => n !== view.primary);
}

function perReplica(
  check: string,
  fn: (view: ClusterView, node: string, ev: Evidence) => [CheckStatus, string],
): Check {
  return (view, ev) =>
    replicas(view).map((node) => {
      if (view.unreachable(node) !== undefined) return result(check, view, node, 'skip', 'node unreachable');
      if (!view.obs(node)?.pg) return result(check, view, node, 'skip', 'postgres is not answering');
      if (!view.primary) return result(check, view, node, 'skip', 'no single primary');
      const [status, detail] = fn(view, node, ev);
      return result(check, view, node, status, detail);
    });
}

export const replicaStreaming = perReplica('replica-streaming', (view, node) => {
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
});

export const replicationLag = perReplica('replication-lag', (view, node, ev) => {
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
});

export const markerWrite: Check = (view, ev) => {
  const m = ev.markers[view.cluster.name];
  if (!view.primary || !m) return [result('marker-write', view, undefined, 'skip', 'no single primary')];
  return [
    result('marker-write', view, view.primary, m.primaryWrite.ok ? 'pass' : 'fail', m.primaryWrite.detail),
  ];
};

export const markerReplicated = perReplica('marker-replicated', (view, node, ev) => {
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
});

export const pgbouncerWrite = perNode(
  'pgbouncer-write',
  (view, node) => {
    const w = view.obs(node)?.client?.write;
    if (!w) return ['skip', 'not tried'];
    if (!w.ok) {
      const to = view.obs(node)?.pgbouncer?.routeHost;
      const route = to ? ` (its route: ${view.nodes.find((n) => n.address === to)?.name ?? to})` : '';
      return ['fail', `${errorLine(w.output) || 'the write failed'}${route}`];
    }
    const landed = view.nodes.find((n) => n.address === w.server)?.name ?? w.server ?? '?';
    if (w.inRecovery) return ['fail', `landed on ${landed}, a server in recovery`];
    if (view.primary && landed !== view.primary)
      return ['fail', `landed on ${landed}, but the primary is ${view.primary}`];
    if (!view.primary) return ['fail', `landed on ${landed}; the cluster has no single primary to compare`];
    return ['pass', `landed on ${landed} (primary)${w.serverTls ? ', TLS to the server too' : ''}`];
  },
  usesPgbouncer,
);

const serviceCheck = (check: string, unit: string, applies: (v: ClusterView) => boolean) =>
  perNode(
    check,
    (view, node) => {
      const state = view.obs(node)?.services[unit];
      return state === 'active' ? ['pass', `${unit} active`] : ['fail', `${unit} is ${state ?? 'unknown'}`];
    },
    applies,
  );

export const repmgrdRunning = serviceCheck('repmgrd-running', REPMGRD_UNIT, usesRepmgr);

const RECOVERY = { 0: 'primary', 1: 'standby' } as Record<number, string>;

export const repmgrClusterShow = perNode(
  'repmgr-cluster-show',
  (view, node) => {
    const r = view.obs(node)?.repmgr;
    if (!r) return ['skip', 'not asked'];
    if (!r.ok) return ['fail', r.error || 'repmgr cluster show failed'];
    if (!view.primary) return ['skip', 'no single primary to compare with'];
    const problems: string[] = [];
    const byName = new Map(r.table.map((row) => [row.name, row]));
    for (const n of view.nodes) {
      const row = byName.get(n.name);
      if (!row) {
        problems.push(`${n.name} not registered`);
        continue;
      }
      const role = n.name === view.primary ? 'primary' : 'standby';
      if (row.role !== role) problems.push(`${n.name} is a ${row.role}, expected ${role}`);
      const up = role === 'primary' ? '' : (expectedUpstream(view, n.name) ?? '');
      if (row.upstream !== up)
        problems.push(`${n.name} upstream ${row.upstream || '(none)'}, expected ${up || '(none)'}`);
      if (/^[!?-]/.test(row.status) || !/running/.test(row.status)) problems.push(`${n.name} ${row.status}`);
      const csv = r.csv.find((c) => c.id === row.id);
      if (!csv) problems.push(`${n.name} missing from --csv`);
      else {
        if (csv.connection !== 0) problems.push(`${n.name} unreachable for repmgr`);
        if (RECOVERY[csv.recovery] !== role)
          problems.push(`${n.name} recovery state ${RECOVERY[csv.recovery] ?? 'unknown'}`);
      }
    }
    const extra = r.table
      .filter((row) => !view.nodes.some((n) => n.name === row.name))
      .map((row) => row.name);
    if (extra.length) problems.push(`unknown nodes registered: ${extra.join(', ')}`);
    return problems.length
      ? ['fail', problems.join('; ')]
      : ['pass', `${r.table.length} nodes, roles and upstreams as expected`];
  },
  usesRepmgr,
);

const TLS_REFUSAL = /SSL required|server does not support SSL/i;
const PASSWORD_REFUSAL = /password authentication failed|SASL authentication failed/i;
/** postgres refuses a plain-text client because every TCP rule of pg_hba.conf is hostssl */
const PLAINTEXT_HBA_REFUSAL = /no pg_hba\.conf entry .*(no encryption|SSL off)/i;
const HBA_REFUSAL = /no pg_hba\.conf entry/i;

/** the endpoint did not answer at all: nothing can be said about what it accepts */
const NO_SERVER =
  /Connection refused|Is the server running|timeout expired|No route to host|could not connect/i;

type Refusal = { verdict: 'refused' } | { verdict: 'fail' | 'skip'; why: string };

function refused(p: ClientProbe | undefined, pattern: RegExp, what: string): Refusal {
  if (!p) return { verdict: 'skip', why: `${what}: not tried` };
  if (p.ok) return { verdict: 'fail', why: `${what}: accepted` };
  if (pattern.test(p.output)) return { verdict: 'refused' };
  if (NO_SERVER.test(p.output))
    return { verdict: 'skip', why: `${what}: no server answered (${errorLine(p.output)})` };
  return { verdict: 'fail', why: `${what}: refused for another reason: ${errorLine(p.output)}` };
}

/**
 * A refusal only proves something when the same client gets in with TLS and the right
 * password: otherwise it may be refused for its address (access.client_cidrs) or anything else.
 */
function controlConnection(p: ClientProbe | undefined, what: string): Refusal | undefined {
  if (!p) return { verdict: 'skip', why: `${what}: not tried` };
  if (p.ok) return undefined;
  if (HBA_REFUSAL.test(p.output))
    return {
      verdict: 'skip',
      why: `${what}: this node's own address may not connect (access.client_cidrs), so a refusal proves nothing`,
    };
  if (NO_SERVER.test(p.output))
    return { verdict: 'skip', why: `${what}: no server answered (${errorLine(p.output)})` };
  return { verdict: 'fail', why: `${what}: even TLS with the right password failed: ${errorLine(p.output)}` };
}

/** fail when any attempt failed, else skip when any could not be judged, else pass */
function refusals(outcomes: Refusal[], passDetail: string): [CheckStatus, string] {
  const bad = outcomes.filter((o) => o.verdict === 'fail');
  const unjudged = outcomes.filter((o) => o.verdict === 'skip');
  const why = (xs: Refusal[]) => xs.map((o) => ('why' in o ? o.why : '')).join('; ');
  if (bad.length) return ['fail', why([...bad, ...unjudged])];
  if (unjudged.length) return ['skip', why(unjudged)];
  return ['pass', passDetail];
}

/** both refusals of one endpoint: the control connection first, then the refusal it vouches for */
function endpoint(
  control: ClientProbe | undefined,
  attempt: ClientProbe | undefined,
  pattern: RegExp,
  what: string,
) {
  return controlConnection(control, what) ?? refused(attempt, pattern, what);
}

export const tlsRequired = perNode('tls-required', (view, node) => {
  const c = view.obs(node)?.client;
  if (!c) return ['skip', 'not tried'];
  const pgb = usesPgbouncer(view);
  return refusals(
    [
      ...(pgb ? [endpoint(c.write, c.noTlsPgbouncer, TLS_REFUSAL, 'pgbouncer without TLS')] : []),
      endpoint(c.tlsPostgres, c.noTlsPostgres, PLAINTEXT_HBA_REFUSAL, 'postgres without TLS'),
    ],
    `sslmode=disable refused for being plain text by ${pgb ? 'pgbouncer and ' : ''}postgres; TLS accepted`,
  );
});

export const wrongPasswordRefused = perNode('wrong-password-refused', (view, node) => {
  const c = view.obs(node)?.client;
  if (!c) return ['skip', 'not tried'];
  const pgb = usesPgbouncer(view);
  return refusals(
    [
      ...(pgb ? [endpoint(c.write, c.badPasswordPgbouncer, PASSWORD_REFUSAL, 'pgbouncer')] : []),
      endpoint(c.tlsPostgres, c.badPasswordPostgres, PASSWORD_REFUSAL, 'postgres'),
    ],
    `refused by password authentication on ${pgb ? 'pgbouncer and ' : ''}postgres; the right one accepted`,
  );
});

/** checks in report order */
const ALL: Check[] = [
  reachable,
  postgresRunning,
  onePrimary,
  replicaStreaming,
  replicationLag,
  markerWrite,
  markerReplicated,
  pgbouncerWrite,
  repmgrdRunning,
  repmgrClusterShow,
  tlsRequired,
  wrongPasswordRefused,
];

export function evaluate(ev: Evidence): CheckResult[] {
  const results: CheckResult[] = [];
  for (const view of clusterViews(ev)) for (const check of ALL) results.push(...check(view, ev));
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
