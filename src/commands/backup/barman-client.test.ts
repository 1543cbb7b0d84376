import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationError } from '../../core/errors.ts';
import { config } from '../../model/testdata/fixtures.ts';
import type { Inventory } from '../../platforms/platform.ts';
import { testHost, testInventory } from '../../../test/support/fixtures.ts';
import { backupTargets } from './barman-client.ts';

const withScratch = config((c) => {
  c.clusters.push({ name: 'scratch', backups: false, nodes: [{ name: 'scratch-1', role: 'primary' }] });
});
const inventory: Inventory = testInventory([
  testHost({ name: 'backup-1', address: '10.0.0.1', role: 'barman' }),
]);

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
