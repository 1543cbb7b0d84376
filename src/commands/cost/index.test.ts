import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, OperationError } from '../../core/errors.ts';
import { estimateClusterCost, loadPriceTable } from './index.ts';

void test('loadPriceTable reads data/prices.json and refuses a malformed table', async (t) => {
  const table = await loadPriceTable();
  assert.equal(table.currency, 'USD');
  const dir = await mkdtemp(join(tmpdir(), 'tpa-cost-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'bad.json'), '{"region": "x"}');
  await assert.rejects(loadPriceTable(join(dir, 'bad.json')), OperationError);
});

void test('estimateClusterCost prices an aws directory and refuses an invalid one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tpa-cost-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = `name: acme
platform: aws
aws: { region: us-east-1 }
defaults: { instance_type: m6i.large, volume_gb: 50 }
backup: { mode: shared }
clusters:
  - name: main
    nodes:
      - { name: main-1, role: primary }
      - { name: main-2, role: replica }
services:
  - { name: backup-1, role: barman, instance_type: t3.medium, volume_gb: 200 }
`;
  await writeFile(join(dir, 'config.yml'), config);
  const table = await loadPriceTable();
  const est = await estimateClusterCost(dir);
  const node =
    Math.round(table.instances_per_hour['m6i.large']! * table.hours_per_month * 100) +
    Math.round(50 * table.volume.per_gb_month * 100);
  const barman =
    Math.round(table.instances_per_hour['t3.medium']! * table.hours_per_month * 100) +
    Math.round(200 * table.volume.per_gb_month * 100);
  assert.equal(est.clusters[0]?.monthly, (2 * node) / 100);
  assert.equal(est.services.monthly, barman / 100);
  assert.equal(est.total, (2 * node + barman) / 100);
  assert.equal(est.basis.kind, 'price-table');

  await writeFile(join(dir, 'config.yml'), config.replace('m6i.large', 'm9.huge'));
  await assert.rejects(estimateClusterCost(dir), ConfigError);
});
