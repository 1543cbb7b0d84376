import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AWS_INSTANCE_TYPES } from './instance-types.ts';
import { estimateCost, PriceTableSchema, type PriceTable } from './pricing.ts';
import { config } from './testdata/fixtures.ts';

const TABLE: PriceTable = {
  source: 'test',
  region: 'us-east-1',
  date: '2024-06-01',
  currency: 'USD',
  hours_per_month: 730,
  instances_per_hour: { 't3.medium': 0.0416, 'm6i.large': 0.096 },
  volume: { type: 'gp3', per_gb_month: 0.08 },
};

void test('data/prices.json is well-formed, dated, and prices every AWS instance type tpa offers', () => {
  const data: unknown = JSON.parse(readFileSync(new URL('../../data/prices.json', import.meta.url), 'utf8'));
  const table = PriceTableSchema.parse(data);
  assert.match(table.date, /^20\d\d-\d\d-\d\d$/);
  assert.ok(table.region);
  for (const type of Object.keys(AWS_INSTANCE_TYPES)) {
    assert.ok((table.instances_per_hour[type] ?? 0) > 0, `no price for ${type}`);
  }
  assert.ok(table.volume.per_gb_month > 0);
});

void test('aws: instance hours plus gp3 per host, summed per cluster, services and group', () => {
  const c = config((x) => {
    x.platform = 'aws';
    x.aws = { region: 'us-east-1' };
    x.defaults = { instance_type: 't3.medium', volume_gb: 20 };
    x.clusters[0]!.nodes[0]!.instance_type = 'm6i.large';
    x.clusters[0]!.nodes[0]!.volume_gb = 100;
  });
  const est = estimateCost(c, TABLE);
  const byName = Object.fromEntries(est.hosts.map((h) => [h.name, h]));
  // 0.096 * 730 = 70.08; 100 GB * 0.08 = 8.00
  assert.deepEqual(
    [byName['main-1']?.instanceMonthly, byName['main-1']?.volumeMonthly, byName['main-1']?.monthly],
    [70.08, 8, 78.08],
  );
  // 0.0416 * 730 = 30.368 -> 30.37; 20 GB -> 1.60
  assert.equal(byName['main-2']?.monthly, 31.97);
  assert.deepEqual(est.clusters, [{ name: 'main', monthly: 142.02 }]);
  assert.equal(est.services.monthly, 31.97);
  assert.equal(est.total, 173.99);
  assert.equal(est.incomplete, false);
  assert.deepEqual(est.basis, {
    kind: 'price-table',
    source: 'test',
    region: 'us-east-1',
    date: '2024-06-01',
  });
  assert.equal(
    est.notes.some((n) => n.includes('differ')),
    false,
  );
});

void test('aws in another region says the prices are from the table region', () => {
  const est = estimateCost(
    config((x) => {
      x.platform = 'aws';
      x.defaults = { instance_type: 't3.medium' };
    }),
    TABLE,
  );
  assert.ok(est.notes.some((n) => n.includes('eu-west-1') && n.includes('us-east-1')));
});

void test('lxc and bare cost nothing unless config prices say otherwise', () => {
  const free = estimateCost(config(), TABLE);
  assert.equal(free.total, 0);
  assert.equal(free.basis.kind, 'free');
  const priced = estimateCost(
    config((x) => {
      x.platform = 'bare';
      x.clusters[0]!.nodes.forEach((n, i) => (n.address = `192.0.2.${i + 10}`));
      x.services[0]!.address = '192.0.2.20';
      x.prices = { instances: { small: 12.5 }, volume_gb_month: 0.05 };
    }),
    TABLE,
  );
  // 4 hosts * (12.50 + 20 GB * 0.05)
  assert.equal(priced.total, 54);
  assert.equal(priced.basis.kind, 'config');
});

void test('an unpriced instance type makes the estimate incomplete, not wrong', () => {
  const est = estimateCost(
    config((x) => {
      x.prices = { instances: {} };
    }),
    TABLE,
  );
  assert.equal(est.incomplete, true);
  assert.equal(est.hosts[0]?.monthly, null);
  assert.ok(est.notes.some((n) => n.includes('no price for instance type small')));
});
