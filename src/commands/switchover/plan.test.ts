import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../core/errors.ts';
import type { StatusReport, StatusRow } from '../status/index.ts';
import { planSwitchover } from './plan.ts';

const row = (cluster: string, node: string, extra: Partial<StatusRow> = {}): StatusRow => ({
  cluster,
  node,
  address: `10.0.0.${node.length}`,
  configuredRole: 'replica',
  role: 'replica',
  state: 'running',
  upstream: `${cluster}-1`,
  receiver: 'streaming',
  lagBytes: 0,
  ...extra,
});
const primary = (cluster: string) =>
  row(cluster, `${cluster}-1`, {
    role: 'primary',
    configuredRole: 'primary',
    upstream: undefined,
    receiver: undefined,
    lagBytes: undefined,
  });

const group = (rows: StatusRow[] = []): StatusReport => ({
  group: 'g',
  primaries: { main: 'main-1', reports: 'reports-1' },
  nodes: [
    primary('main'),
    row('main', 'main-2', { lagBytes: 4096 }),
    row('main', 'main-3', { lagBytes: 0 }),
    primary('reports'),
    ...rows,
  ],
});

const usage = (re: RegExp) => (e: unknown) =>
  e instanceof UsageError && e.exitCode === 2 && re.test(e.message);
/** the cluster not ready: refused the same way, nothing changed */
const operation = usage;

void test('to a named standby; without --to the most caught-up one; the others follow', () => {
  const p = planSwitchover(group(), { to: 'main-2' });
  assert.equal(p.target.node, 'main-2');
  assert.deepEqual(
    p.siblings.map((s) => s.node),
    ['main-3'],
  );
  assert.equal(planSwitchover(group(), { cluster: 'main' }).target.node, 'main-3');
});

void test('bad requests: the primary, an unknown node, a node of another cluster, no cluster named (exit 2)', () => {
  assert.throws(
    () => planSwitchover(group(), { to: 'main-1' }),
    usage(/main-1 is the primary of cluster main already/),
  );
  assert.throws(() => planSwitchover(group(), { to: 'main-9' }), usage(/no node main-9/));
  assert.throws(
    () => planSwitchover(group(), { cluster: 'main', to: 'reports-1' }),
    usage(/reports-1 is a node of cluster reports, not of main/),
  );
  assert.throws(() => planSwitchover(group(), {}), usage(/which cluster/));
});

void test('not ready (exit 2 too): a node down, the target lagging or not streaming, a long transaction without --force', () => {
  const down = group();
  down.nodes[2] = row('main', 'main-3', { state: 'stopped', role: 'unknown', receiver: undefined });
  assert.throws(
    () => planSwitchover(down, { to: 'main-2' }),
    operation(/every node of cluster main must be up for a switchover: main-3 is stopped/),
  );
  const lagging = group();
  lagging.nodes[1] = row('main', 'main-2', { lagBytes: 64 * 1024 * 1024 });
  assert.throws(
    () => planSwitchover(lagging, { to: 'main-2' }),
    operation(/main-2 lags 65536 kB behind main-1/),
  );
  const cascaded = group();
  cascaded.nodes[2] = row('main', 'main-3', { upstream: 'main-2' });
  assert.throws(
    () => planSwitchover(cascaded, { to: 'main-3' }),
    operation(/main-3 does not stream from main-1/),
  );
  const tx = [{ pid: 42, seconds: 95, user: 'app', query: 'UPDATE t SET x = 1' }];
  assert.throws(
    () => planSwitchover(group(), { to: 'main-2' }, tx),
    operation(/1 transaction open for 30 s or more \(pid 42, app, 95 s\)/),
  );
  assert.equal(planSwitchover(group(), { to: 'main-2', force: true }, tx).target.node, 'main-2');
});
