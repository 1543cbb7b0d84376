import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationError } from '../core/errors.ts';
import { config } from '../model/testdata/fixtures.ts';
import type { Inventory, InventoryHost } from '../platforms/platform.ts';
import { backupTargets } from './barman-client.ts';

const host = (name: string, kind: InventoryHost['kind']): InventoryHost => ({
  name,
  kind,
  role: kind === 'barman' ? 'barman' : 'primary',
  address: '10.0.0.1',
  sshUser: 'root',
  sshPort: 22,
  instanceType: 'small',
  cpus: 1,
  memoryMb: 1024,
  volumeGb: 20,
});

const withScratch = config((c) => {
  c.clusters.push({ name: 'scratch', backups: false, nodes: [{ name: 'scratch-1', role: 'primary' }] });
});
const inventory: Inventory = { group: 'acme', platform: 'lxc', hosts: [host('backup-1', 'barman')] };

void test('backupTargets: clusters with backups: false are left out, and refused by name', () => {
  assert.deepEqual(
    backupTargets({ config: withScratch, inventory }).map((t) => [t.cluster.name, t.host.name]),
    [['main', 'backup-1']],
  );
  assert.deepEqual(
    backupTargets({ config: withScratch, inventory }, 'main').map((t) => t.cluster.name),
    ['main'],
  );
  assert.throws(
    () => backupTargets({ config: withScratch, inventory }, 'scratch'),
    (e: unknown) =>
      e instanceof OperationError && /scratch is not backed up \(backups: false/.test(e.message),
  );
});
