import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterGroupSchema } from '../../model/schema.ts';
import type { Inventory, InventoryHost } from '../../platforms/platform.ts';
import type { LiveHost } from './live.ts';
import { testHost, testInventory } from '../../../test/support/fixtures.ts';
import { buildBackupOverview, lastBackupText, scheduleText } from './overview.ts';

const NOW = new Date('2026-11-22T19:00:00Z');
const epoch = (iso: string) => Date.parse(iso) / 1000;

function config(backup: object = {}) {
  return ClusterGroupSchema.parse({
    name: 'acme',
    backup: { mode: 'shared', schedule: '0 2 * * *', retention: 'recovery window of 7 days', ...backup },
    clusters: [
      { name: 'main', nodes: [{ name: 'main-1', role: 'primary' }] },
      { name: 'rep', nodes: [{ name: 'rep-1', role: 'primary' }] },
    ],
    services: [{ name: 'backup-1', role: 'barman' }],
  });
}

const host = (name: string, over: Partial<InventoryHost> = {}) =>
  testHost({ name, address: '10.0.3.1', ...over });

const inventory: Inventory = testInventory([
  host('main-1'),
  host('rep-1', { cluster: 'rep' }),
  host('backup-1', { role: 'barman' }),
]);

function live(over: Partial<LiveHost> = {}): LiveHost {
  return {
    servers: [
      {
        server: 'main',
        configured: true,
        confRetention: 'RECOVERY WINDOW OF 7 DAYS',
        barmanRetention: 'RECOVERY WINDOW OF 7 DAYS',
        cronSchedule: '0 2 * * *',
        backups: [
          {
            id: '20261120T020000',
            status: 'DONE',
            endEpoch: epoch('2026-11-20T02:00:30Z'),
            retentionStatus: 'OBSOLETE',
          },
          {
            id: '20261122T020000',
            status: 'DONE',
            endEpoch: epoch('2026-11-22T02:00:30Z'),
            retentionStatus: '-',
          },
          {
            id: '20261121T020000',
            status: 'DONE',
            endEpoch: epoch('2026-11-21T02:00:30Z'),
            retentionStatus: '-',
          },
        ],
        errors: [],
      },
      { server: 'rep', configured: false, errors: [] },
    ],
    managed: [{ server: 'main', backups: 3 }],
    ...over,
  };
}

void test('config and the backup server agree: schedule in words, last backup, counts, no differences', () => {
  const o = buildBackupOverview(config(), inventory, { 'backup-1': live() }, NOW);
  const main = o.clusters.find((c) => c.cluster === 'main')!;
  assert.equal(main.server, 'backup-1');
  assert.equal(main.mode, 'shared');
  assert.deepEqual(main.schedule, {
    cron: '0 2 * * *',
    text: 'daily at 02:00 UTC',
    next: '2026-11-23T02:00:00.000Z',
  });
  assert.equal(main.retention, 'RECOVERY WINDOW OF 7 DAYS', 'written as barman reads it');
  assert.equal(main.now?.retention, 'RECOVERY WINDOW OF 7 DAYS');
  assert.equal(main.now?.retentionSource, 'barman show-server');
  assert.equal(main.now?.backups, 3);
  assert.equal(main.now?.obsolete, 1);
  assert.deepEqual(main.now?.last, {
    id: '20261122T020000',
    status: 'DONE',
    endTime: '2026-11-22T02:00:30.000Z',
    ageSeconds: 17 * 3600 - 30,
  });
  assert.deepEqual(main.differences, []);
  assert.equal(lastBackupText(main.now), 'last 20261122T020000 DONE 17.0 h ago');
  assert.equal(scheduleText(main.schedule, NOW), 'daily at 02:00 UTC, next in 7.0 h');
  // rep is in config.yml but not on the backup server yet
  const rep = o.clusters.find((c) => c.cluster === 'rep')!;
  assert.deepEqual(rep.differences, ['backup-1 has no barman server rep yet: run tpa deploy']);
  assert.deepEqual(o.leftovers, []);
});

void test('a change in config.yml not deployed yet shows as a difference, with what to do', () => {
  const o = buildBackupOverview(
    config({ schedule: '30 3 * * *', retention: 'REDUNDANCY 4' }),
    inventory,
    { 'backup-1': live() },
    NOW,
  );
  const main = o.clusters.find((c) => c.cluster === 'main')!;
  assert.deepEqual(main.differences, [
    'retention: config.yml says REDUNDANCY 4, backup-1 has RECOVERY WINDOW OF 7 DAYS: run tpa deploy',
    'schedule: config.yml says "30 3 * * *", backup-1 has "0 2 * * *": run tpa deploy',
  ]);
});

void test("without barman's own answer the server file's retention is used, and said so", () => {
  const l = live();
  delete l.servers[0]!.barmanRetention;
  const o = buildBackupOverview(config(), inventory, { 'backup-1': l }, NOW);
  assert.equal(o.clusters[0]!.now?.retentionSource, 'server file');
  assert.equal(lastBackupText({ errors: ['barman list-backups: not JSON'] }), 'backups not read');
  assert.equal(lastBackupText({ backups: 0 }), 'no backup yet');
  assert.equal(o.clusters[0]!.now?.retention, 'RECOVERY WINDOW OF 7 DAYS');
});

void test('a failed newest backup: the last complete one is shown beside it', () => {
  const l = live();
  l.servers[0]!.backups!.push({ id: '20261122T180000', status: 'FAILED' });
  const o = buildBackupOverview(config(), inventory, { 'backup-1': l }, NOW);
  assert.equal(
    lastBackupText(o.clusters[0]!.now!),
    'last 20261122T180000 FAILED, last complete 20261122T020000 DONE 17.0 h ago',
  );
});

void test('an unreachable backup server; a server left from a removed cluster; backups off', () => {
  const down = buildBackupOverview(
    config(),
    inventory,
    { 'backup-1': { unreachable: 'connect timed out' } },
    NOW,
  );
  assert.equal(down.clusters[0]!.unreachable, 'connect timed out');
  assert.equal(down.clusters[0]!.now, undefined);

  const left = live({
    managed: [
      { server: 'main', backups: 3 },
      { server: 'old', backups: 2 },
    ],
  });
  const o = buildBackupOverview(config(), inventory, { 'backup-1': left }, NOW);
  assert.deepEqual(o.leftovers, [
    { host: 'backup-1', server: 'old', backups: 2, path: '/var/lib/barman/old' },
  ]);

  const off = buildBackupOverview(config({ mode: 'none' }), inventory, { 'backup-1': left }, NOW);
  assert.deepEqual(off.clusters, []);
  assert.deepEqual(
    off.leftovers.map((x) => x.server),
    ['main', 'old'],
  );
});
