import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pgPaths } from '../components/postgres/paths.ts';
import { START_GUARD_MARKER } from '../components/failover/manager.ts';
import { failoverManagerOf } from '../components/failover/registry.ts';
import { poolerOf } from '../components/pooler/registry.ts';
import { buildObserveScript, parseObservation, splitSections } from './observe.ts';
import { errorLine } from './observation.ts';
import { framed, REPMGR_TABLE } from '../../test/support/checks-fixtures.ts';

const PG_JSON =
  '{"inRecovery" : true, "version" : "15.20 (Debian 15.20-0+deb12u1)", "lsn" : "0/301BF68", "receiveLsn" : "0/301BF68", ' +
  '"timeline" : 1, "startedAt" : "2026-11-22T16:33:03.051815+00:00", "systemId" : "7711034581542229746", "replayDelayS" : 12.5, ' +
  '"walReceiver" : {"status":"streaming","senderHost":"10.0.3.11","senderPort":5432,"receivedTli":1}, "replication" : []}';

void test('sections are split with their exit codes; one cut short gets -1', () => {
  const s = splitSections(
    framed([
      ['a', 'one\ntwo', 0],
      ['b', '', 3],
    ]) + '@@tpa-begin c\npartial',
  );
  assert.deepEqual(s, {
    a: { output: 'one\ntwo', exitCode: 0 },
    b: { output: '', exitCode: 3 },
    c: { output: 'partial', exitCode: -1 },
  });
});

void test('a full observation of a replica is parsed', () => {
  const out = framed([
    ['services', 'postgresql@15-main active\nrepmgrd inactive\npgbouncer active', 0],
    ['pg', PG_JSON, 0],
    ['pgbouncer-route', 'host=10.0.3.11 port=5432', 0],
    ['repmgr-table', REPMGR_TABLE, 0],
    ['packages', 'pgbouncer|1.18.0-1|installed\nbarman|2.1-1|config-files\ndebian|12.12|installed', 0],
    ['client-write', '{"server" : "10.0.3.11", "inRecovery" : false, "serverTls" : true}', 0],
    [
      'client-notls-pooler',
      'psql: error: connection to server at "10.0.3.13", port 6432 failed: FATAL:  SSL required',
      2,
    ],
    ['client-badpw-pooler', 'psql: error: ... FATAL:  SASL authentication failed', 2],
    [
      'client-notls-postgres',
      'psql: error: ... FATAL:  no pg_hba.conf entry for host "10.0.3.13", no encryption',
      2,
    ],
    [
      'client-badpw-postgres',
      'psql: error: ... FATAL:  password authentication failed for user "postgres"',
      2,
    ],
  ]);
  const o = parseObservation('main-2', out);
  assert.deepEqual(o.services, { 'postgresql@15-main': 'active', repmgrd: 'inactive', pgbouncer: 'active' });
  assert.equal(o.pg?.inRecovery, true);
  assert.equal(o.pg?.walReceiver?.senderHost, '10.0.3.11');
  assert.equal(o.pg?.replayDelayS, 12.5);
  assert.deepEqual(o.pgbouncer, { route: 'host=10.0.3.11 port=5432', routeHost: '10.0.3.11' });
  assert.equal(o.repmgr?.ok, true);
  assert.deepEqual(o.repmgr?.table[2], {
    id: 3,
    name: 'main-3',
    role: 'standby',
    status: 'running',
    upstream: 'main-2',
  });
  // only installed packages count
  assert.deepEqual(o.packages, { pgbouncer: '1.18.0-1', debian: '12.12' });
  assert.equal(o.client?.write?.ok, true);
  assert.equal(o.client?.write?.server, '10.0.3.11');
  assert.equal(o.client?.noTlsPooler?.ok, false);
  assert.match(o.client?.badPasswordPostgres.output ?? '', /password authentication failed/);
});

void test('a primary with several standbys: json_agg breaks lines between them', () => {
  // as psql -A -t prints it
  const primary =
    '{"inRecovery" : false, "version" : "15.20 (Debian 15.20-0+deb12u1)", "lsn" : "0/5000060", "receiveLsn" : null, ' +
    '"timeline" : 1, "startedAt" : "2026-11-22T17:40:01.1+00:00", "systemId" : "1", "replayDelayS" : null, ' +
    '"walReceiver" : null, "replication" : [{"applicationName":"main-2","clientAddr":"10.0.3.12","state":"streaming","syncState":"async","replayLagBytes":0,"replayLagS":null}, \n' +
    ' {"applicationName":"main-3","clientAddr":"10.0.3.13","state":"streaming","syncState":"async","replayLagBytes":0,"replayLagS":0.014564}]}';
  const o = parseObservation('main-1', framed([['pg', primary, 0]]));
  assert.equal(o.pgError, undefined);
  assert.equal(o.pg?.inRecovery, false);
  assert.deepEqual(
    o.pg?.replication.map((r) => r.clientAddr),
    ['10.0.3.12', '10.0.3.13'],
  );
});

void test('an answer from postgres that is not JSON is reported as such', () => {
  const o = parseObservation('main-1', framed([['pg', '{"inRecovery" : fal', 0]]));
  assert.equal(o.pg, undefined);
  assert.match(o.pgError ?? '', /^unreadable answer from postgres/);
});

void test('postgres not answering is an error line, not an observation', () => {
  const o = parseObservation(
    'main-3',
    framed([
      [
        'pg',
        'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory\n\tIs the server running locally and accepting connections on that socket?',
        2,
      ],
    ]),
  );
  assert.equal(o.pg, undefined);
  assert.equal(
    o.pgError,
    'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory',
  );
});

void test('a failed write through pgbouncer keeps the server message', () => {
  const o = parseObservation(
    'main-2',
    framed([
      ['client-write', 'ERROR:  cannot execute CREATE SCHEMA in a read-only transaction', 3],
      ['client-notls-postgres', 'x', 2],
      ['client-badpw-postgres', 'x', 2],
    ]),
  );
  assert.equal(o.client?.write?.ok, false);
  assert.equal(
    errorLine(o.client?.write?.output ?? ''),
    'cannot execute CREATE SCHEMA in a read-only transaction',
  );
});

function shellSyntaxOk(script: string): void {
  for (const sh of ['dash', 'bash']) {
    const r = spawnSync(sh, ['-n'], { input: script, encoding: 'utf8' });
    assert.equal(r.status, 0, `${sh}: ${r.stderr}`);
  }
}

void test('the script is valid sh; the password is read from stdin and only ever in an environment', () => {
  const script = buildObserveScript({
    paths: pgPaths(15),
    services: ['postgresql@15-main', 'repmgrd'],
    sections: [
      ...poolerOf({ pooler: 'pgbouncer' }).observeSections(),
      ...failoverManagerOf({ failover_manager: 'repmgr' }).observeSections(pgPaths(15)),
    ],
    pooler: { name: 'pgbouncer', port: 6432 },
    packages: ['postgresql-15', 'pgbouncer'],
    client: { address: '10.0.3.12', markerId: 'm-abc-123', wrongPassword: 'wrong-0011' },
  });
  shellSyntaxOk(script);
  assert.match(script, /^IFS= read -r TPA_PW/m);
  // every use of the password is an environment assignment of psql's
  const uses = script.split('\n').filter((l) => l.includes('$TPA_PW'));
  assert.ok(uses.length >= 3);
  // psql itself (the binary of the newest major), not Debian's wrapper
  for (const l of uses)
    assert.match(
      l,
      /PGPASSWORD="\$TPA_PW" timeout \d+ "\$\(for b in \/usr\/lib\/postgresql\/\*\/bin\/psql; .*\)" -X /,
    );
  assert.match(script, /PGPASSWORD=wrong-0011 timeout/);
  for (const section of [
    'client-write',
    'client-notls-pooler',
    'client-badpw-postgres',
    'repmgr-table',
    'packages',
  ]) {
    assert.ok(script.includes(`@@tpa-begin ${section}`), section);
  }
});

void test('without a client part the script reads nothing from stdin and tries no login', () => {
  const script = buildObserveScript({
    paths: pgPaths(15),
    services: [],
    sections: [],
    packages: [],
  });
  shellSyntaxOk(script);
  assert.match(script, /^exec <\/dev\/null$/m);
  assert.doesNotMatch(script, /PGPASSWORD|client-|repmgr|pgbouncer/);
});

void test("the start guard's message is read from its marker: a fenced node says why it is down", () => {
  const msg =
    "fenced: 10.0.3.12 (main-2) is the primary now (timeline 2; this node's data is on timeline 1), so postgresql@15-main does not start as a second primary.";
  const script = buildObserveScript({
    paths: pgPaths(15),
    services: [],
    sections: [],
    packages: [],
  });
  assert.ok(script.includes(`cat ${START_GUARD_MARKER} 2>/dev/null`));
  const fenced = parseObservation(
    'main-1',
    framed([
      ['pg', 'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed', 2],
      ['fence', msg, 0],
    ]),
  );
  assert.equal(fenced.fenced, msg);
  const running = parseObservation(
    'main-1',
    framed([
      ['pg', PG_JSON, 0],
      ['fence', '', 0],
    ]),
  );
  assert.equal(running.fenced, undefined);
});
