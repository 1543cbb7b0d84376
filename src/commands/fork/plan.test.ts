import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../core/errors.ts';
import { parseConfig } from '../../model/parse.ts';
import type { StatusReport, StatusRow } from '../status/index.ts';
import { planFork } from './plan.ts';

const config = (backup: string) => {
  const r = parseConfig(`name: g
backup: { mode: ${backup} }
clusters:
  - name: main
    durability: sync
    postgres_settings: { work_mem: 8MB }
    nodes:
      - { name: main-1, role: primary }
      - { name: main-2, role: replica }
      - { name: main-3, role: replica, instance_type: medium }
      - { name: main-4, role: replica, upstream: main-3 }
${backup === 'none' ? '' : 'services:\n  - { name: backup-1, role: barman }\n'}`);
  assert.deepEqual(r.errors, []);
  return r.config!;
};
const row = (node: string, extra: Partial<StatusRow> = {}): StatusRow => ({
  cluster: 'main',
  node,
  address: '10.0.0.1',
  configuredRole: 'replica',
  role: 'replica',
  state: 'running',
  upstream: 'main-1',
  receiver: 'streaming',
  ...extra,
});
const status = (extra: Record<string, Partial<StatusRow>> = {}): StatusReport => ({
  group: 'g',
  primaries: { main: 'main-1' },
  nodes: [
    row('main-1', { role: 'primary', upstream: undefined, receiver: undefined }),
    row('main-2', extra['main-2']),
    row('main-3', extra['main-3']),
    row('main-4', { upstream: 'main-3', ...extra['main-4'] }),
  ],
});
const usage = (re: RegExp) => (e: unknown) =>
  e instanceof UsageError && e.exitCode === 2 && re.test(e.message);

void test('the new cluster: one primary with its machine, the settings and manager of its old cluster, async, the shared backups', () => {
  const p = planFork(config('shared'), status(), 'main-3', 'side');
  assert.deepEqual(p.cluster, {
    name: 'side',
    failover_manager: 'repmgr',
    durability: 'async',
    pooler: 'pgbouncer',
    backup_server: 'backup-1',
    postgres_settings: { work_mem: '8MB' },
    nodes: [{ name: 'main-3', role: 'primary', instance_type: 'medium' }],
  });
  assert.deepEqual(p.leave.children, ['main-4'], 'main-4 follows the primary first');
  assert.equal(p.service, undefined);
  const exclusive = planFork(config('exclusive'), status(), 'main-2', 'side');
  assert.deepEqual(exclusive.service, { name: 'backup-2', role: 'barman' });
  assert.equal(exclusive.cluster.backup_server, 'backup-2');
  assert.equal(planFork(config('none'), status(), 'main-2', 'side').cluster.backup_server, undefined);
});

void test('refused: the primary, a used name, a standby that does not stream, below the fencing minimum', () => {
  assert.throws(() => planFork(config('none'), status(), 'main-1', 'side'), usage(/main-1 is the primary/));
  assert.throws(
    () => planFork(config('none'), status(), 'main-2', 'main'),
    usage(/a cluster main exists already/),
  );
  assert.throws(
    () => planFork(config('none'), status(), 'main-2', 'main-4'),
    usage(/main-4 is already a host/),
  );
  assert.throws(
    () => planFork(config('none'), status({ 'main-2': { receiver: 'catchup' } }), 'main-2', 'side'),
    usage(/main-2 is not streaming \(catchup\): a fork starts from a standby that streams/),
  );
  assert.throws(
    () => planFork(config('none'), status(), 'main-2', 'side', () => 3),
    usage(/fewer than the 3 it needs not to fence itself/),
  );
});
