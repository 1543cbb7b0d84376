import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testHost, threeNodeConfig, threeNodeInventory } from './fixtures.ts';

void test('testHost: a small postgres primary in cluster main, or a barman host; fields in order', () => {
  const pg = testHost({ name: 'main-1', address: '10.0.3.11' });
  assert.deepEqual(pg, {
    name: 'main-1',
    kind: 'postgres',
    cluster: 'main',
    role: 'primary',
    address: '10.0.3.11',
    sshUser: 'root',
    sshPort: 22,
    instanceType: 'small',
    cpus: 1,
    memoryMb: 1024,
    volumeGb: 20,
  });
  assert.deepEqual(Object.keys(testHost({ name: 'a', address: 'x', upstream: 'b', platformId: 'c' })), [
    'name',
    'kind',
    'cluster',
    'role',
    'upstream',
    'address',
    'sshUser',
    'sshPort',
    'instanceType',
    'cpus',
    'memoryMb',
    'volumeGb',
    'platformId',
  ]);
  const barman = testHost({ name: 'backup-1', address: '10.0.3.31', role: 'barman' });
  assert.equal(barman.kind, 'barman');
  assert.equal('cluster' in barman, false);
  assert.equal(testHost({ name: 'b', address: 'x', kind: 'barman' }).role, 'barman');
  // undefined leaves a field out; other values override
  const bare = testHost({ name: 'a', address: 'x', role: 'replica', cluster: undefined, sshPort: 2222 });
  assert.equal('cluster' in bare, false);
  assert.equal(bare.role, 'replica');
  assert.equal(bare.sshPort, 2222);
});

void test('threeNodeConfig and threeNodeInventory describe the same three nodes', () => {
  const config = threeNodeConfig({ platform: 'bare' });
  assert.equal(config.platform, 'bare');
  const nodes = config.clusters[0]!.nodes.map((n) => [n.name, n.role, n.upstream]);
  const hosts = threeNodeInventory().hosts.map((h) => [h.name, h.role, h.upstream]);
  assert.deepEqual(hosts, nodes);
  assert.deepEqual(
    threeNodeInventory().hosts.map((h) => h.address),
    ['10.0.3.11', '10.0.3.12', '10.0.3.13'],
  );
});
