import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADDR, config, healthyObservations, inventory } from '../../../test/support/checks-fixtures.ts';
import { statusRows, withBackups } from './index.ts';
import { renderStatusTable } from './cli.ts';

void test('status rows say what each server is now, whom it streams from and where its pgbouncer points', () => {
  const report = statusRows({
    config: config(),
    inventory: inventory(),
    observations: healthyObservations(),
    unreachable: {},
  });
  assert.deepEqual(report.primaries, { main: 'main-1' });
  const [m1, m2, m3] = report.nodes;
  assert.equal(m1?.role, 'primary');
  assert.equal(m1?.upstream, undefined);
  assert.equal(m2?.upstream, 'main-1');
  assert.equal(m3?.upstream, 'main-2');
  assert.equal(m3?.receiver, 'streaming');
  assert.equal(m3?.lagBytes, 0);
  assert.equal(m3?.lagSeconds, 0.002);
  assert.equal(m2?.lagSeconds, 0, 'no replay_lag reported: idle and caught up');
  assert.equal(m2?.version, '15.20');
  assert.equal(m2?.timeline, 1);
  assert.equal(m3?.pgbouncerTarget, 'main-1');
  assert.equal(m3?.repmgrd, 'active');
});

void test('after a failover: the promoted node is primary (config says replica), the dead one unreachable', () => {
  const obs = healthyObservations();
  delete obs['main-1'];
  const m2 = obs['main-2']!;
  m2.pg = { ...m2.pg!, inRecovery: false, walReceiver: null, timeline: 2 };
  m2.pgbouncer = { route: `host=${ADDR['main-2']} port=5432`, routeHost: ADDR['main-2']! };
  const m3 = obs['main-3']!;
  delete m3.pg;
  m3.pgError = 'connection refused';
  const report = statusRows({
    config: config(),
    inventory: inventory(),
    observations: obs,
    unreachable: { 'main-1': 'connect timed out' },
  });
  assert.deepEqual(report.primaries, { main: 'main-2' });
  const byName = Object.fromEntries(report.nodes.map((n) => [n.node, n]));
  assert.deepEqual(
    [byName['main-1']?.state, byName['main-1']?.role, byName['main-1']?.detail],
    ['unreachable', 'unknown', 'connect timed out'],
  );
  assert.deepEqual(
    [byName['main-2']?.role, byName['main-2']?.configuredRole, byName['main-2']?.timeline],
    ['primary', 'replica', 2],
  );
  assert.equal(byName['main-2']?.pgbouncerTarget, 'main-2');
  assert.deepEqual([byName['main-3']?.state, byName['main-3']?.detail], ['stopped', 'connection refused']);
});

void test('a former primary fenced by its start guard shows as stopped and fenced, with the message', () => {
  const obs = healthyObservations();
  const m1 = obs['main-1']!;
  delete m1.pg;
  m1.pgError = 'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed';
  m1.fenced = 'fenced: 10.0.3.12 (main-2) is the primary now (timeline 2; ...)';
  const m2 = obs['main-2']!;
  m2.pg = { ...m2.pg!, inRecovery: false, walReceiver: null, timeline: 2 };
  const report = statusRows({ config: config(), inventory: inventory(), observations: obs, unreachable: {} });
  const row = report.nodes.find((n) => n.node === 'main-1')!;
  assert.deepEqual([row.state, row.fenced, row.role], ['stopped', true, 'unknown']);
  assert.match(row.detail ?? '', /^fenced: 10\.0\.3\.12 \(main-2\) is the primary now/);
  assert.equal(report.primaries.main, 'main-2');
  assert.match(renderStatusTable(report), /stopped \(fenced\)[\s\S]*main-1: fenced: 10\.0\.3\.12/);
  // a node merely stopped is not called fenced
  delete m1.fenced;
  const plain = statusRows({ config: config(), inventory: inventory(), observations: obs, unreachable: {} });
  assert.equal(plain.nodes.find((n) => n.node === 'main-1')!.fenced, undefined);
});

void test('backups join the report only when there are some (or servers to retire)', () => {
  const base = statusRows({
    config: config(),
    inventory: inventory(),
    observations: healthyObservations(),
    unreachable: {},
  });
  assert.deepEqual(withBackups(base, { clusters: [], leftovers: [] }), base);
  const left = { host: 'backup-1', server: 'old', backups: 1, path: '/var/lib/barman/old' };
  const r = withBackups(base, { clusters: [], leftovers: [left] });
  assert.deepEqual(r.backupLeftovers, [left]);
  assert.equal(r.backups, undefined);
});
