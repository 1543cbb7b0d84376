/**
 * The auth_query function against a real, throwaway PostgreSQL (initdb in a temporary
 * directory, socket only): installed by the deploy action, seen by the probe, callable by
 * the auth user and nobody else.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  AUTH_FUNCTION_SQL,
  AUTH_FUNCTION_TAG,
  authFunctionCommand,
  authFunctionNeeded,
  authFunctionProbeCommand,
} from './auth-function.ts';

const BIN = '/usr/lib/postgresql/15/bin';
const runnable = process.getuid?.() === 0 && existsSync(`${BIN}/initdb`);
const skip = runnable ? false : 'needs root and postgresql-15 on this machine (scripts/install-host-deps.sh)';

let dir = '';
const env = () => ({ ...process.env, PGHOST: dir });

function sh(command: string, stdin?: string) {
  const r = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: env(), input: stdin, cwd: '/' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function sql(query: string, db = 'postgres'): string {
  const r = sh(`runuser -u postgres -- psql -X -A -t -q -v ON_ERROR_STOP=1 -p 5432 -d ${db}`, query);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

before(() => {
  if (!runnable) return;
  dir = mkdtempSync(join(tmpdir(), 'tpa-pgauth-'));
  const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  chownSync(dir, Number(pw.stdout), Number(gid.stdout));
  const data = join(dir, 'data');
  let r = sh(`runuser -u postgres -- ${BIN}/initdb -D ${data} -A peer -U postgres >/dev/null`);
  assert.equal(r.status, 0, r.stderr);
  r = sh(
    `runuser -u postgres -- ${BIN}/pg_ctl -D ${data} -l ${dir}/log -w -o "-k ${dir} -p 5432 -c listen_addresses=''" start >/dev/null`,
  );
  assert.equal(r.status, 0, r.stderr);
  sql(`CREATE ROLE pgbouncer_auth LOGIN;
       CREATE ROLE alice LOGIN PASSWORD 'alice-pw';
       CREATE ROLE streamer LOGIN REPLICATION PASSWORD 'streamer-pw';
       CREATE ROLE admin LOGIN SUPERUSER REPLICATION PASSWORD 'admin-pw';
       CREATE ROLE expired LOGIN PASSWORD 'old-pw' VALID UNTIL '2000-01-01';`);
});

after(() => {
  if (!dir) return;
  sh(`runuser -u postgres -- ${BIN}/pg_ctl -D ${join(dir, 'data')} -m immediate stop >/dev/null`);
  rmSync(dir, { recursive: true, force: true });
});

const probe = () => {
  const r = sh(authFunctionProbeCommand());
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

void test('the deploy action installs the function in every database; the probe sees it', { skip }, () => {
  assert.equal(authFunctionNeeded(probe()), true);
  const r = sh(authFunctionCommand(), AUTH_FUNCTION_SQL);
  assert.equal(r.status, 0, r.stderr);
  const seen = probe();
  assert.deepEqual(seen.trim().split('\n').sort(), [
    `postgres\t${AUTH_FUNCTION_TAG}`,
    `template1\t${AUTH_FUNCTION_TAG}`,
  ]);
  assert.equal(authFunctionNeeded(seen), false);
  // running it again changes nothing and does not fail
  assert.equal(sh(authFunctionCommand(), AUTH_FUNCTION_SQL).status, 0);

  // a database made from template1 inherits it; one made from template0 needs another run
  sql('CREATE DATABASE app1');
  sql('CREATE DATABASE app0 TEMPLATE template0');
  assert.match(probe(), new RegExp(`^app1\t${AUTH_FUNCTION_TAG}$`, 'm'));
  assert.match(probe(), /^app0\t-$/m);
  assert.equal(authFunctionNeeded(probe()), true);
  assert.equal(sh(authFunctionCommand(), AUTH_FUNCTION_SQL).status, 0);
  assert.equal(authFunctionNeeded(probe()), false);

  // the probe names databases through psql's \connect: quotes and backslashes survive
  sql(String.raw`CREATE DATABASE "it's a \ db" TEMPLATE template0`);
  assert.match(probe(), /^it's a \\ db\t-$/m);
  assert.equal(authFunctionNeeded(probe()), true);
});

void test(
  'only the auth user may call it, and it hides replication roles, itself and expired passwords',
  { skip },
  () => {
    const asAuth = (name: string) =>
      sql(
        `SET ROLE pgbouncer_auth; SELECT username || ' ' || coalesce(password, 'NULL') FROM pgbouncer.get_auth('${name}');`,
      );
    assert.match(asAuth('alice'), /^alice SCRAM-SHA-256\$4096:/);
    assert.equal(asAuth('streamer'), '');
    assert.match(
      asAuth('admin'),
      /^admin SCRAM-SHA-256\$/,
      'a superuser with REPLICATION (like postgres) may',
    );
    assert.equal(asAuth('pgbouncer_auth'), '');
    assert.equal(asAuth('expired'), 'expired NULL');
    const r = sh(
      'runuser -u postgres -- psql -X -A -t -q -p 5432 -d postgres',
      "SET ROLE alice; SELECT * FROM pgbouncer.get_auth('alice');",
    );
    assert.match(r.stderr, /permission denied/);
  },
);

void test('the probe output decides', () => {
  assert.equal(authFunctionNeeded(''), true, 'no answer: install');
  assert.equal(authFunctionNeeded(`postgres\t${AUTH_FUNCTION_TAG}\n`), true, 'template1 missing');
  assert.equal(authFunctionNeeded(`postgres\t${AUTH_FUNCTION_TAG}\ntemplate1\t${AUTH_FUNCTION_TAG}`), false);
  assert.equal(
    authFunctionNeeded(`postgres\ttpa pgbouncer auth_query 000000000000\ntemplate1\t${AUTH_FUNCTION_TAG}`),
    true,
  );
});
