import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterGroupSchema } from '../../model/schema.ts';
import type { HostFacts, Resource } from '../../plan/types.ts';
import type { Inventory, InventoryHost } from '../../platforms/platform.ts';
import type { DeployContext } from '../component.ts';
import { testHost, testInventory } from '../../../test/support/fixtures.ts';
import { emptyFacts, serverFacts, shellProblems } from '../../../test/support/repmgr-fixtures.ts';
import { barmanComponent, repointNeeded, streamingNeeded } from './index.ts';
import { BARMAN_GRANTS_PROBE } from './grants.ts';
import { BARMAN_STATE_PROBE } from './state.ts';
import { STALE_SLOT_PROBE } from './slots.ts';
import { MANAGED_CONF_PROBE } from './retire.ts';

const ADDR: Record<string, string> = {
  'main-1': '10.0.3.11',
  'main-2': '10.0.3.12',
  'rep-1': '10.0.3.21',
  'backup-1': '10.0.3.31',
  'backup-2': '10.0.3.32',
};

function config(mode: 'shared' | 'exclusive' | 'none', exclusive = false) {
  return ClusterGroupSchema.parse({
    name: 'acme',
    backup: { mode, schedule: '30 1 * * *', retention: 'REDUNDANCY 2' },
    clusters: [
      {
        name: 'main',
        ...(exclusive ? { backup_server: 'backup-1' } : {}),
        nodes: [
          { name: 'main-1', role: 'primary' },
          { name: 'main-2', role: 'replica' },
        ],
      },
      {
        name: 'rep',
        ...(exclusive ? { backup_server: 'backup-2' } : {}),
        nodes: [{ name: 'rep-1', role: 'primary' }],
      },
    ],
    services: exclusive
      ? [
          { name: 'backup-1', role: 'barman' },
          { name: 'backup-2', role: 'barman' },
        ]
      : [{ name: 'backup-1', role: 'barman' }],
  });
}

const host = (name: string, over: Partial<InventoryHost> = {}) =>
  testHost({ name, address: ADDR[name]!, ...over });

function ctx(
  mode: 'shared' | 'exclusive' | 'none',
  facts: Record<string, HostFacts> = {},
  exclusive = false,
): DeployContext {
  const inventory: Inventory = testInventory([
    host('main-1'),
    host('main-2', { role: 'replica' }),
    host('rep-1', { cluster: 'rep' }),
    host('backup-1', { role: 'barman' }),
    ...(exclusive ? [host('backup-2', { role: 'barman' })] : []),
  ]);
  return {
    config: config(mode, exclusive),
    inventory,
    secrets: { barman_password: 'barman-secret-xyz', tls_ca_cert: '-----BEGIN CERTIFICATE-----\nCA\n' },
    facts,
  };
}

const byName = (c: DeployContext, n: string) => c.inventory.hosts.find((h) => h.name === n)!;
const resources = (c: DeployContext, n: string) =>
  barmanComponent.desired(byName(c, n), c).flatMap((p) => p.resources.map((r) => ({ phase: p.phase, r })));
const files = (c: DeployContext, n: string) =>
  resources(c, n)
    .map((x) => x.r)
    .filter((r): r is Extract<Resource, { kind: 'file' }> => r.kind === 'file');
const actions = (c: DeployContext, n: string) =>
  resources(c, n)
    .map((x) => x.r)
    .filter((r): r is Extract<Resource, { kind: 'action' }> => r.kind === 'action');

void test('backups off: nothing on the postgres nodes; a backup host with nothing of tpa gets nothing', () => {
  const c = ctx('none');
  for (const h of c.inventory.hosts.filter((x) => x.kind === 'postgres'))
    assert.equal(barmanComponent.appliesTo(h, c), false, h.name);
  // the backup host is still probed: it may hold servers to retire
  assert.equal(barmanComponent.appliesTo(byName(c, 'backup-1'), c), true);
  assert.ok(MANAGED_CONF_PROBE in barmanComponent.probes!(byName(c, 'backup-1'), c));
  assert.deepEqual(barmanComponent.desired(byName(c, 'backup-1'), c), []);
});

void test('backups turned off: the servers tpa configured are retired, the cron file loses its backup lines', () => {
  const c = ctx('none', { 'backup-1': managedFacts('server=main backups=2\nserver=rep backups=1\ncron=1') });
  const r = resources(c, 'backup-1').map((x) => x.r);
  assert.deepEqual(
    r.map((x) => (x.kind === 'action' ? x.id : x.kind === 'file' ? x.path : x.kind)),
    ['barman-retire-main', 'barman-retire-rep', '/etc/tpa/barman-follow.conf', '/etc/cron.d/tpa-barman'],
  );
  const cron = files(c, 'backup-1').find((x) => x.path === '/etc/cron.d/tpa-barman')!;
  assert.doesNotMatch(cron.content, / backup /);
  assert.match(cron.content, /barman-follow\.sh/);
  // nothing is installed on a host that serves nothing
  assert.equal(r.filter((x) => x.kind === 'package').length, 0);
});

void test('shared: one backup host serves both clusters, one server file each, one cron line each', () => {
  const c = ctx('shared');
  const f = files(c, 'backup-1');
  const confs = f.filter((x) => x.path.startsWith('/etc/barman.d/')).map((x) => x.path);
  assert.deepEqual(confs, ['/etc/barman.d/main.conf', '/etc/barman.d/rep.conf']);
  const cron = f.find((x) => x.path === '/etc/cron.d/tpa-barman')!;
  assert.match(cron.content, /^30 1 \* \* \* barman .*backup main$/m);
  assert.match(cron.content, /^30 1 \* \* \* barman .*backup rep$/m);
  const main = f.find((x) => x.path === '/etc/barman.d/main.conf')!;
  assert.match(main.content, /retention_policy = REDUNDANCY 2/);
  for (const r of resources(c, 'backup-1')) assert.equal(r.phase, 'backups');
});

void test('exclusive: each backup host serves only its own cluster', () => {
  const c = ctx('exclusive', {}, true);
  const confs = (n: string) =>
    files(c, n)
      .filter((x) => x.path.startsWith('/etc/barman.d/'))
      .map((x) => x.path);
  assert.deepEqual(confs('backup-1'), ['/etc/barman.d/main.conf']);
  assert.deepEqual(confs('backup-2'), ['/etc/barman.d/rep.conf']);
});

void test('the password lives only in ~barman/.pgpass, 0600 and secret', () => {
  const c = ctx('shared');
  const f = files(c, 'backup-1');
  const holding = f.filter((x) => x.content.includes('barman-secret-xyz'));
  assert.deepEqual(
    holding.map((x) => [x.path, x.mode, x.owner, x.secret]),
    [['/var/lib/barman/.pgpass', 0o600, 'barman', true]],
  );
  for (const a of actions(c, 'backup-1')) assert.ok(!a.command.includes('barman-secret-xyz'));
});

void test('conninfo follows the current primary from facts, not config', () => {
  const first = ctx('shared');
  const conf = (c: DeployContext) =>
    files(c, 'backup-1').find((x) => x.path === '/etc/barman.d/main.conf')!.content;
  assert.match(conf(first), /^conninfo = host=10\.0\.3\.11 /m);
  const afterFailover = ctx('shared', {
    'main-1': serverFacts('main-1', 'standby', 1),
    'main-2': serverFacts('main-2', 'primary', 2),
  });
  assert.match(conf(afterFailover), /^conninfo = host=10\.0\.3\.12 /m);
  assert.match(conf(afterFailover), /^streaming_conninfo = host=10\.0\.3\.12 /m);
});

void test('grants go to the current primary only, before phase backups', () => {
  const c = ctx('shared', {
    'main-1': serverFacts('main-1', 'standby', 1),
    'main-2': serverFacts('main-2', 'primary', 2),
  });
  // the former primary only gets its stale barman slot dropped (when the probe finds one)
  const former = resources(c, 'main-1');
  assert.deepEqual(
    former.map((x) => [x.phase, x.r.kind === 'action' ? x.r.id : x.r.kind]),
    [['backups', 'barman-drop-stale-slot']],
  );
  const drop = former[0]!.r as Extract<Resource, { kind: 'action' }>;
  assert.equal(drop.needed(emptyFacts('main-1', { [STALE_SLOT_PROBE]: '1' })), true);
  assert.equal(drop.needed(emptyFacts('main-1', { [STALE_SLOT_PROBE]: '0' })), false);
  assert.equal(drop.needed(emptyFacts('main-1', {})), false);
  const grant = resources(c, 'main-2');
  assert.equal(grant.length, 1);
  assert.equal(grant[0]!.phase, 'failover-manager');
  const a = grant[0]!.r as Extract<Resource, { kind: 'action' }>;
  assert.match(a.stdin!, /GRANT EXECUTE ON FUNCTION pg_backup_start\(text, boolean\) TO barman;/);
  assert.equal(a.needed(emptyFacts('main-2', { [BARMAN_GRANTS_PROBE]: 't' })), false);
  assert.equal(a.needed(emptyFacts('main-2', { [BARMAN_GRANTS_PROBE]: 'f' })), true);
  assert.equal(a.needed(emptyFacts('main-2', {})), true);
});

function managedFacts(raw: string, host = 'backup-1') {
  return emptyFacts(host, { [MANAGED_CONF_PROBE]: raw });
}

void test('a cluster removed from config.yml: its server is retired, the others stay as they are', () => {
  const c = ctx('shared', {
    'backup-1': managedFacts('server=main backups=1\nserver=rep backups=1\nserver=old backups=4\ncron=1'),
  });
  const ids = actions(c, 'backup-1').map((a) => a.id);
  assert.deepEqual(
    ids.filter((id) => id.startsWith('barman-retire-')),
    ['barman-retire-old'],
  );
  const retire = actions(c, 'backup-1').find((a) => a.id === 'barman-retire-old')!;
  assert.match(retire.description, /its 4 backups and WAL stay in \/var\/lib\/barman\/old/);
  // after every file: the cron file no longer names it when it goes
  const order = resources(c, 'backup-1').map((x) => x.r);
  const lastFile = order.map((x) => x.kind).lastIndexOf('file');
  assert.ok(order.findIndex((x) => x.kind === 'action' && x.id === retire.id) > lastFile);
  const cron = files(c, 'backup-1').find((x) => x.path === '/etc/cron.d/tpa-barman')!;
  assert.doesNotMatch(cron.content, /backup old$/m);
});

void test('a cluster moved to another backup host is retired on the old one, set up on the new one', () => {
  // exclusive: main on backup-1, rep on backup-2; backup-2 still has a server file for main
  const c = ctx(
    'exclusive',
    {
      'backup-1': managedFacts('server=main backups=1\ncron=1'),
      'backup-2': managedFacts('server=main backups=2\nserver=rep backups=1\ncron=1', 'backup-2'),
    },
    true,
  );
  assert.deepEqual(
    actions(c, 'backup-1')
      .map((a) => a.id)
      .filter((id) => id.startsWith('barman-retire-')),
    [],
  );
  assert.deepEqual(
    actions(c, 'backup-2')
      .map((a) => a.id)
      .filter((id) => id.startsWith('barman-retire-')),
    ['barman-retire-main'],
  );
});

function stateFacts(line: string) {
  return emptyFacts('backup-1', { [BARMAN_STATE_PROBE]: line });
}

void test('actions: a new server streams, takes its first backup and is checked', () => {
  const c = ctx('shared');
  const acts = actions(c, 'backup-1').filter((a) => a.id.endsWith('-main'));
  assert.deepEqual(
    acts.map((a) => a.id),
    ['barman-stream-main', 'barman-first-backup-main', 'barman-check-main'],
  );
  const fresh = emptyFacts('backup-1', {});
  for (const a of acts) assert.equal(a.needed(fresh), true, a.id);
  for (const a of acts) assert.deepEqual(shellProblems(a.command), [], a.id);
});

void test('actions: a converged server needs nothing', () => {
  const c = ctx('shared');
  const ok = stateFacts('server=main receive=1 wals=5 backups=1 last=1700000000 host=10.0.3.11');
  for (const a of actions(c, 'backup-1').filter((x) => x.id.endsWith('-main'))) {
    assert.equal(a.needed(ok), false, a.id);
  }
});

void test('actions: after a failover streaming restarts against the new primary, no new full backup', () => {
  const c = ctx('shared', {
    'main-1': serverFacts('main-1', 'standby', 1),
    'main-2': serverFacts('main-2', 'primary', 2),
  });
  const old = stateFacts('server=main receive=1 wals=5 backups=1 last=1700000000 host=10.0.3.11');
  const need = Object.fromEntries(
    actions(c, 'backup-1')
      .filter((x) => x.id.endsWith('-main'))
      .map((a) => [a.id, a.needed(old)]),
  );
  assert.deepEqual(need, {
    'barman-stream-main': true,
    'barman-first-backup-main': false,
    'barman-check-main': true,
  });
});

void test('streaming and re-point decisions', () => {
  const s = (over: object) => ({
    server: 'main',
    receiveWalRunning: true,
    walsArchived: 1,
    backupsDone: 1,
    lastBackupEpoch: 1,
    conninfoHost: '10.0.3.11',
    ...over,
  });
  assert.equal(streamingNeeded(undefined, '10.0.3.11'), true);
  assert.equal(streamingNeeded(s({}), '10.0.3.11'), false);
  assert.equal(streamingNeeded(s({ receiveWalRunning: false }), '10.0.3.11'), true);
  assert.equal(streamingNeeded(s({ walsArchived: 0 }), '10.0.3.11'), true);
  assert.equal(repointNeeded(s({}), '10.0.3.12'), true);
  assert.equal(repointNeeded(s({ conninfoHost: '' }), '10.0.3.12'), false);
});

void test('checks: barman check per served cluster, on the backup host only', () => {
  const c = ctx('shared');
  const checks = barmanComponent.checks!(byName(c, 'backup-1'), c);
  assert.deepEqual(
    checks.map((x) => x.name),
    ['barman check main', 'barman check rep'],
  );
  assert.deepEqual(barmanComponent.checks!(byName(c, 'main-1'), c), []);
});
