import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHECKS, evaluate, summarize, type Evidence } from './evaluate.ts';
import { ADDR, failed, find, healthyEvidence } from '../../test/support/checks-fixtures.ts';

void test('a healthy cascaded cluster passes every check, nothing skipped', () => {
  const results = evaluate(healthyEvidence());
  const s = summarize(results);
  assert.deepEqual(failed(results), []);
  assert.equal(s.skip, 0);
  assert.equal(s.ok, true);
  // 3 nodes: reachable, running, pgbouncer-write, repmgrd, cluster show, tls, password = 7 x 3;
  // 2 replicas: streaming, lag, marker = 3 x 2; cluster: one-primary, marker-write
  assert.equal(results.length, 7 * 3 + 3 * 2 + 2);
  assert.match(find(results, 'replica-streaming', 'main-3').detail, /from main-2/);
  assert.match(find(results, 'pgbouncer-write', 'main-3').detail, /landed on main-1/);
});

void test("CHECKS lists every check in report order: the pooler's and the failover manager's between markers and clients", () => {
  assert.deepEqual(
    CHECKS.slice(0, 12).map((c) => c.id),
    [
      'reachable',
      'postgres-running',
      'one-primary',
      'replica-streaming',
      'replication-lag',
      'marker-write',
      'marker-replicated',
      'pgbouncer-write',
      'repmgrd-running',
      'repmgr-cluster-show',
      'tls-required',
      'wrong-password-refused',
    ],
  );
  assert.equal(CHECKS[7]?.title, 'write through pgbouncer lands on the primary');
  // a cluster's results come in that order too
  const order = evaluate(healthyEvidence()).map((r) => r.check);
  assert.deepEqual(
    order.filter((c, i) => c !== order[i - 1]),
    CHECKS.slice(0, 12).map((c) => c.id),
  );
});

void test('a stopped replica fails postgres-running; what depends on it is skipped, not passed', () => {
  const ev = healthyEvidence();
  const o = ev.observations['main-3']!;
  delete o.pg;
  o.pgError =
    'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory';
  o.services['postgresql@15-main'] = 'inactive';
  o.client!.noTlsPostgres = {
    ok: false,
    output:
      'psql: error: ... Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?',
  };
  o.client!.badPasswordPostgres = o.client!.noTlsPostgres;
  o.client!.tlsPostgres = o.client!.noTlsPostgres;
  ev.markers.main!.replicas = { 'main-2': ev.markers.main!.replicas['main-2']! };
  const results = evaluate(ev);
  assert.deepEqual(failed(results), ['postgres-running@main-3']);
  assert.match(find(results, 'postgres-running', 'main-3').detail, /postgresql@15-main is inactive/);
  for (const check of [
    'replica-streaming',
    'replication-lag',
    'marker-replicated',
    'tls-required',
    'wrong-password-refused',
  ]) {
    assert.equal(find(results, check, 'main-3').status, 'skip', check);
  }
  assert.equal(summarize(results).ok, false);
});

void test("a fenced former primary fails postgres-running with the start guard's message", () => {
  const ev = healthyEvidence();
  const o = ev.observations['main-1']!;
  delete o.pg;
  o.pgError = 'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed';
  o.fenced = 'fenced: 10.0.3.12 (main-2) is the primary now (timeline 2; ...)';
  o.services['postgresql@15-main'] = 'failed';
  const detail = find(evaluate(ev), 'postgres-running', 'main-1').detail;
  assert.match(detail, /^postgresql@15-main is failed; fenced: 10\.0\.3\.12 \(main-2\) is the primary now/);
});

void test('a replica streaming from another node than its configured upstream fails', () => {
  const ev = healthyEvidence();
  ev.observations['main-3']!.pg!.walReceiver!.senderHost = ADDR['main-1']!;
  const r = find(evaluate(ev), 'replica-streaming', 'main-3');
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /streaming from main-1 .*expected main-2/);
});

void test('a WAL receiver that is not streaming fails', () => {
  const ev = healthyEvidence();
  ev.observations['main-2']!.pg!.walReceiver!.status = 'waiting';
  assert.match(find(evaluate(ev), 'replica-streaming', 'main-2').detail, /WAL receiver waiting/);
});

void test('two primaries fail one-primary; replica checks are skipped', () => {
  const ev = healthyEvidence();
  ev.observations['main-2']!.pg!.inRecovery = false;
  ev.observations['main-2']!.pg!.walReceiver = null;
  const results = evaluate(ev);
  assert.equal(find(results, 'one-primary').status, 'fail');
  assert.match(find(results, 'one-primary').detail, /2 primaries: main-1, main-2/);
  assert.equal(find(results, 'replica-streaming', 'main-2').status, 'skip');
  assert.equal(find(results, 'marker-write').status, 'skip');
});

void test('lag over either limit fails replication-lag', () => {
  const ev = healthyEvidence();
  ev.observations['main-1']!.pg!.lsn = '0/5000000';
  ev.observations['main-2']!.pg!.lsn = '0/3000000';
  ev.thresholds.maxLagBytes = 1024 * 1024;
  let r = find(evaluate(ev), 'replication-lag', 'main-2');
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /32\.0 MiB behind/);

  const ev2 = healthyEvidence();
  ev2.observations['main-2']!.pg!.replication[0]!.replayLagS = 45;
  r = find(evaluate(ev2), 'replication-lag', 'main-3');
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /replay lag 45\.0 s: over 30 s/);
});

void test('a replica behind the primary by less than the limit passes (a replica ahead reads as 0)', () => {
  const ev = healthyEvidence();
  ev.observations['main-1']!.pg!.lsn = '0/3000100';
  ev.observations['main-2']!.pg!.lsn = '0/3000000';
  ev.observations['main-3']!.pg!.lsn = '0/3000200';
  const results = evaluate(ev);
  assert.match(find(results, 'replication-lag', 'main-2').detail, /^256 B behind/);
  assert.match(find(results, 'replication-lag', 'main-3').detail, /^0 B behind/);
});

void test('a marker missing on a replica fails marker-replicated, naming how it was written', () => {
  const ev = healthyEvidence();
  ev.markers.main!.replicas['main-3'] = { found: ['m-p', 'm-1', 'm-3'], waitedMs: 30_000 };
  const r = find(evaluate(ev), 'marker-replicated', 'main-3');
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /via pgbouncer@main-2/);
});

void test('a failed marker write on the primary fails marker-write', () => {
  const ev = healthyEvidence();
  ev.markers.main!.primaryWrite = { ok: false, detail: 'ERROR: disk full' };
  assert.equal(find(evaluate(ev), 'marker-write', 'main-1').status, 'fail');
});

void test('a connection without TLS that gets in fails tls-required; refused for another reason fails too', () => {
  const ev = healthyEvidence();
  ev.observations['main-1']!.client!.noTlsPooler = { ok: true, output: '1' };
  ev.observations['main-2']!.client!.noTlsPostgres = {
    ok: false,
    output: 'FATAL:  database "postgres" does not exist',
  };
  const results = evaluate(ev);
  assert.match(find(results, 'tls-required', 'main-1').detail, /pgbouncer without TLS: accepted/);
  assert.match(find(results, 'tls-required', 'main-2').detail, /refused for another reason/);
  assert.equal(find(results, 'tls-required', 'main-3').status, 'pass');
});

void test('a wrong password that gets in fails wrong-password-refused', () => {
  const ev = healthyEvidence();
  ev.observations['main-3']!.client!.badPasswordPooler = { ok: true, output: '1' };
  assert.equal(find(evaluate(ev), 'wrong-password-refused', 'main-3').status, 'fail');
});

void test('an unreachable node fails reachable and skips its own checks', () => {
  const ev = healthyEvidence();
  delete ev.observations['main-3'];
  ev.unreachable['main-3'] = 'connect timed out after 8 s';
  delete ev.markers.main!.replicas['main-3'];
  const results = evaluate(ev);
  assert.deepEqual(failed(results), ['reachable@main-3']);
  assert.equal(find(results, 'reachable', 'main-3').detail, 'connect timed out after 8 s');
  assert.equal(find(results, 'repmgrd-running', 'main-3').status, 'skip');
});

void test('after a failover the replicas are judged against the primary of now', () => {
  const ev: Evidence = healthyEvidence();
  delete ev.observations['main-1'];
  ev.unreachable['main-1'] = 'no route to host';
  const m2 = ev.observations['main-2']!;
  m2.pg!.inRecovery = false;
  m2.pg!.walReceiver = null;
  m2.pg!.timeline = 2;
  for (const o of [m2, ev.observations['main-3']!]) {
    o.client!.write!.server = ADDR['main-2']!;
    o.pgbouncer = { route: `host=${ADDR['main-2']} port=5432`, routeHost: ADDR['main-2']! };
  }
  ev.markers.main!.replicas = { 'main-3': ev.markers.main!.replicas['main-3']! };
  const results = evaluate(ev);
  assert.equal(find(results, 'one-primary').detail, 'main-2 is the primary');
  assert.equal(find(results, 'replica-streaming', 'main-3').status, 'pass');
  assert.equal(find(results, 'pgbouncer-write', 'main-3').status, 'pass');
  assert.deepEqual(
    failed(results).filter((f) => !f.startsWith('repmgr-cluster-show')),
    ['reachable@main-1'],
  );
});

void test('a cluster without pooler and failover manager has no pgbouncer or repmgr checks', () => {
  const ev = healthyEvidence();
  ev.config.clusters[0]!.pooler = 'none';
  ev.config.clusters[0]!.failover_manager = 'patroni';
  const checks = new Set(evaluate(ev).map((r) => r.check));
  for (const c of ['pgbouncer-write', 'repmgrd-running', 'repmgr-cluster-show']) assert.ok(!checks.has(c), c);
  assert.ok(checks.has('tls-required'));
});

const HBA_NO_ENTRY =
  'psql: error: connection to server at "X", port 5432 failed: FATAL:  no pg_hba.conf entry for host "10.0.3.12", user "postgres", database "postgres", SSL encryption';

void test('without a pooler the TLS and password checks run against postgres alone, and pass', () => {
  const ev = healthyEvidence();
  for (const o of Object.values(ev.observations)) {
    delete o.client!.write;
    delete o.client!.noTlsPooler;
    delete o.client!.badPasswordPooler;
  }
  ev.config.clusters[0]!.pooler = 'none';
  const results = evaluate(ev);
  for (const node of ['main-1', 'main-2', 'main-3']) {
    assert.equal(find(results, 'tls-required', node).status, 'pass');
    assert.match(find(results, 'tls-required', node).detail, /by postgres; TLS accepted/);
    assert.equal(find(results, 'wrong-password-refused', node).status, 'pass');
  }
  assert.equal(results.filter((r) => r.check === 'pgbouncer-write').length, 0);
});

void test('a wrong password refused by pg_hba (no entry), not by password authentication, fails', () => {
  const ev = healthyEvidence();
  ev.observations['main-2']!.client!.badPasswordPostgres = { ok: false, output: HBA_NO_ENTRY };
  const r = find(evaluate(ev), 'wrong-password-refused', 'main-2');
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /postgres: refused for another reason: .*no pg_hba\.conf entry/);
});

void test('a plain-text client refused by pg_hba for another reason than TLS fails tls-required', () => {
  const ev = healthyEvidence();
  ev.observations['main-2']!.client!.noTlsPostgres = {
    ok: false,
    output:
      'FATAL:  no pg_hba.conf entry for host "10.0.3.12", user "postgres", database "postgres", SSL encryption',
  };
  assert.equal(find(evaluate(ev), 'tls-required', 'main-2').status, 'fail');
});

void test('a node that may not connect at all (outside client_cidrs): both refusals prove nothing and are not checked', () => {
  const ev = healthyEvidence();
  const c = ev.observations['main-3']!.client!;
  c.tlsPostgres = { ok: false, output: HBA_NO_ENTRY };
  c.badPasswordPostgres = { ok: false, output: HBA_NO_ENTRY };
  const results = evaluate(ev);
  for (const check of ['tls-required', 'wrong-password-refused']) {
    const r = find(results, check, 'main-3');
    assert.equal(r.status, 'skip', check);
    assert.match(r.detail, /access\.client_cidrs/);
  }
  const s = summarize(results);
  assert.equal(s.fail, 0);
  assert.equal(s.skip, 2);
  assert.equal(s.ok, false, 'a check that could not run is not a pass');
  assert.equal(summarize(results, { allowSkips: true }).ok, true);
});

void test('TLS with the right password failing for another reason fails both client checks', () => {
  const ev = healthyEvidence();
  ev.observations['main-1']!.client!.tlsPostgres = {
    ok: false,
    output:
      'psql: error: connection to server at "X", port 5432 failed: FATAL:  the database system is shutting down',
  };
  const results = evaluate(ev);
  assert.match(find(results, 'tls-required', 'main-1').detail, /even TLS with the right password failed/);
  assert.equal(find(results, 'wrong-password-refused', 'main-1').status, 'fail');
});
