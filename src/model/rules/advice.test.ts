import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config } from '../testdata/fixtures.ts';
import { found } from '../testdata/check.ts';
import { highAvailability, syncDurability } from './advice.ts';

void test('highAvailability: a single-node cluster is a warning', () => {
  assert.deepEqual(found(highAvailability, config()), []);
  const single = config((c) => {
    c.clusters[0]!.nodes = [{ name: 'main-1', role: 'primary' }];
  });
  assert.deepEqual(found(highAvailability, single), [
    'warning clusters.0.nodes: cluster "main" has a single node: no high availability, nothing to fail over to',
  ]);
});

void test('syncDurability: fewer than 2 replicas is a warning', () => {
  const sync = (replicas: number) =>
    config((c) => {
      c.clusters[0]!.durability = 'sync';
      c.clusters[0]!.nodes = [
        { name: 'main-1', role: 'primary' },
        ...Array.from({ length: replicas }, (_, i) => ({ name: `main-${i + 2}`, role: 'replica' as const })),
      ];
    });
  assert.deepEqual(found(syncDurability, sync(2)), []);
  assert.deepEqual(found(syncDurability, sync(1)), [
    'warning clusters.0.durability: durability sync in cluster "main" with one replica stops writes whenever that replica is down',
  ]);
  assert.deepEqual(found(syncDurability, sync(0)), [
    'warning clusters.0.durability: durability sync in cluster "main" has no replica to wait for',
  ]);
  assert.deepEqual(found(syncDurability, config()), []);
});
