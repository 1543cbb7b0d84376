import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pgPaths } from '../../postgres/paths.ts';
import {
  AUTH_QUERY,
  DATABASES_INI,
  renderFollowConf,
  renderFollowUnit,
  renderPgbouncerDropIn,
  renderPgbouncerHba,
  renderPgbouncerIni,
  renderUserlist,
} from './files.ts';

/** pgbouncer.ini's [pgbouncer] section as key -> value */
function settings(ini: string): Map<string, string> {
  const out = new Map<string, string>();
  const section = ini.slice(ini.indexOf('[pgbouncer]\n') + '[pgbouncer]\n'.length);
  for (const line of section.split('\n')) {
    if (line.trim() === '' || line.startsWith(';')) continue;
    const m = /^(\w+) = (.*)$/.exec(line);
    assert.ok(m, `not a setting: ${line}`);
    assert.ok(!out.has(m[1]!), `duplicate ${m[1]}`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

void test('pgbouncer.ini: TLS both ways, auth_query through the auth user, the route included', () => {
  const ini = renderPgbouncerIni({ paths: pgPaths(15) });
  assert.ok(ini.includes(`\n%include ${DATABASES_INI}\n`));
  assert.ok(ini.indexOf('%include') < ini.indexOf('[pgbouncer]'), 'the route comes before the settings');
  assert.doesNotMatch(ini, /^\[databases\]/m, 'the route lives in its own file');
  const s = settings(ini);
  assert.equal(s.get('listen_port'), '6432');
  assert.equal(s.get('auth_type'), 'hba');
  assert.equal(s.get('auth_hba_file'), '/etc/pgbouncer/hba.conf');
  assert.equal(s.get('auth_user'), 'pgbouncer_auth');
  assert.equal(s.get('auth_query'), AUTH_QUERY);
  assert.equal(s.get('client_tls_sslmode'), 'require');
  assert.equal(s.get('client_tls_cert_file'), '/etc/postgresql/15/main/tls/server.crt');
  assert.equal(s.get('client_tls_key_file'), '/etc/postgresql/15/main/tls/server.key');
  assert.equal(s.get('server_tls_sslmode'), 'require');
  assert.equal(s.get('pool_mode'), 'session');
  assert.equal(s.get('admin_users'), 'postgres');
  assert.equal(
    settings(renderPgbouncerIni({ paths: pgPaths(15), poolMode: 'transaction' })).get('pool_mode'),
    'transaction',
  );
});

void test("pgbouncer's hba: peer console, auth user rejected, TLS + password for nodes and clients", () => {
  const hba = renderPgbouncerHba({
    nodeAddresses: ['10.0.3.11', '10.0.3.12'],
    clientCidrs: ['203.0.113.0/24'],
    method: 'md5',
  });
  const rules = hba
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/));
  assert.deepEqual(rules, [
    ['local', 'pgbouncer', 'postgres', 'peer'],
    ['hostssl', 'all', 'pgbouncer_auth', '0.0.0.0/0', 'reject'],
    ['hostssl', 'all', 'pgbouncer_auth', '::/0', 'reject'],
    ['hostssl', 'all', 'all', '10.0.3.11/32', 'scram-sha-256'],
    ['hostssl', 'all', 'all', '10.0.3.12/32', 'scram-sha-256'],
    ['hostssl', 'all', 'all', '203.0.113.0/24', 'md5'],
  ]);
  assert.doesNotMatch(hba, /\btrust\b|^host\s/m);
});

void test('userlist.txt holds only the auth user, quoted as pgbouncer reads it', () => {
  assert.equal(renderUserlist('s3cr"et'), '"pgbouncer_auth" "s3cr""et"\n');
  assert.throws(() => renderUserlist('a\nb'), /line break/);
});

void test('the follower configuration lists the nodes and refuses shell metacharacters', () => {
  const conf = renderFollowConf({
    nodeAddresses: ['10.0.3.11', 'fd00::5'],
    checkUser: 'repmgr',
    checkDatabase: 'repmgr',
    psql: '/usr/lib/postgresql/15/bin/psql',
  });
  assert.match(conf, /^NODES='10\.0\.3\.11 fd00::5'$/m);
  assert.match(conf, /^PSQL=\/usr\/lib\/postgresql\/15\/bin\/psql$/m);
  assert.match(conf, /^DATABASES_FILE=\/etc\/pgbouncer\/tpa\/databases\.ini$/m);
  assert.throws(
    () =>
      renderFollowConf({
        nodeAddresses: ['10.0.3.11; rm -rf /'],
        checkUser: 'repmgr',
        checkDatabase: 'repmgr',
        psql: 'psql',
      }),
    /unexpected characters/,
  );
  assert.match(renderFollowUnit(), /^ExecStart=\/usr\/local\/lib\/tpa\/pgbouncer-follow\.sh --loop 5$/m);
  assert.match(renderFollowUnit(), /^User=postgres$/m);
});

void test('pgbouncer checks its route before it starts, and starts even when that check fails', () => {
  assert.match(
    renderPgbouncerDropIn(),
    /^\[Service\]\nExecStartPre=-\/usr\/local\/lib\/tpa\/pgbouncer-follow\.sh --reason "pgbouncer start"$/m,
  );
});
