import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../core/errors.ts';
import { threeNodeConfig } from '../../../test/support/fixtures.ts';
import { planAddCluster } from './plan.ts';

const withBarman = () => threeNodeConfig({ services: [{ name: 'backup-1', role: 'barman' }] as never });

void test("a cluster from configure's options: backups shared when the group has a server, none otherwise", () => {
  assert.deepEqual(planAddCluster(threeNodeConfig(), { name: 'reports', replicas: 0 }), {
    cluster: {
      name: 'reports',
      failover_manager: 'none',
      durability: 'async',
      pooler: 'pgbouncer',
      nodes: [{ name: 'reports-1', role: 'primary' }],
    },
  });
  const p = planAddCluster(withBarman(), { name: 'reports', durability: 'sync', instanceType: 'medium' });
  assert.equal(p.cluster.backup_server, 'backup-1');
  assert.equal(p.cluster.failover_manager, 'repmgr');
  assert.deepEqual(p.cluster.nodes, [
    { name: 'reports-1', role: 'primary', instance_type: 'medium' },
    { name: 'reports-2', role: 'replica', instance_type: 'medium' },
  ]);
  const own = planAddCluster(withBarman(), { name: 'reports', backup: 'exclusive' });
  assert.deepEqual(own.service, { name: 'backup-2', role: 'barman' });
  assert.equal(own.cluster.backup_server, 'backup-2');
});

void test('refused: a taken cluster or node name, a shared backup server that does not exist', () => {
  const refused = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof UsageError && re.test(`${e.message} ${e.hint ?? ''}`));
  refused(() => planAddCluster(threeNodeConfig(), { name: 'main' }), /has a cluster main already/);
  refused(
    () =>
      planAddCluster(threeNodeConfig({ services: [{ name: 'x-1', role: 'barman' }] as never }), {
        name: 'x',
      }),
    /x-1 is already a host/,
  );
  refused(
    () => planAddCluster(threeNodeConfig(), { name: 'reports', backup: 'shared' }),
    /no backup server to share/,
  );
});
