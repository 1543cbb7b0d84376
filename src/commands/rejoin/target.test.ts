import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationError, UsageError } from '../../core/errors.ts';
import type { StatusReport, StatusRow } from '../status/index.ts';
import { nodeTarget } from './target.ts';

const row = (node: string, extra: Partial<StatusRow>): StatusRow => ({
  cluster: 'main',
  node,
  address: `10.0.0.${node.slice(-1)}`,
  configuredRole: node === 'main-1' ? 'primary' : 'replica',
  role: 'replica',
  state: 'running',
  ...extra,
});

const report = (rows: StatusRow[], primary: string | null = 'main-2'): StatusReport => ({
  group: 'g',
  primaries: { main: primary },
  nodes: rows,
});

const afterFailover = () =>
  report([
    row('main-1', { role: 'unknown', state: 'stopped', fenced: true }),
    row('main-2', { role: 'primary' }),
    row('main-3', { upstream: 'main-2', receiver: 'streaming', lagBytes: 0 }),
  ]);

void test('a fenced former primary is rejoined to the primary of now', () => {
  const t = nodeTarget(afterFailover(), 'main-1', 'rejoin');
  assert.equal(t.primary.node, 'main-2');
  assert.equal(t.node.node, 'main-1');
  assert.equal(nodeTarget(afterFailover(), 'main-3', 'rebuild').primary.node, 'main-2');
});

void test('refused with exit 2: unknown node, the primary itself, a healthy standby', () => {
  const refused = (node: string, op: 'rejoin' | 'rebuild', re: RegExp) =>
    assert.throws(
      () => nodeTarget(afterFailover(), node, op),
      (e: unknown) => e instanceof UsageError && e.exitCode === 2 && re.test(e.message),
    );
  refused('main-9', 'rejoin', /no node main-9/);
  refused('main-2', 'rejoin', /main-2 is the primary of cluster main now/);
  refused('main-2', 'rebuild', /is the primary/);
  refused('main-3', 'rejoin', /healthy standby \(streaming from main-2\)/);
});

void test('no primary, or the node unreachable: an operation error, nothing changed', () => {
  const none = report([row('main-1', { role: 'unknown', state: 'stopped' }), row('main-2', {})], null);
  assert.throws(
    () => nodeTarget(none, 'main-1', 'rejoin'),
    (e: unknown) => e instanceof OperationError && /no running primary/.test(e.message),
  );
  const gone = afterFailover();
  gone.nodes[0] = row('main-1', { role: 'unknown', state: 'unreachable', detail: 'timeout' });
  assert.throws(() => nodeTarget(gone, 'main-1', 'rejoin'), /cannot be reached: timeout/);
});
