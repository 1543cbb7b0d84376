/**
 * The fact script against this machine: the parser on canned output, and postgres facts from
 * a real, throw-away PostgreSQL instance (needs root and the postgresql package).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport } from '../transport/local.ts';
import { scramVerifier } from '../secrets/scram.ts';
import { buildFactScript, emptyRequest, parseFactOutput, FactParseError } from './fact-script.ts';
import { gatherFacts } from './facts.ts';
import { databaseSql, roleSql } from '../plan/sql.ts';

void test('the parser maps indexed lines back to names and rejects truncated output', () => {
  const req = {
    ...emptyRequest(),
    files: [{ path: '/a b', sha256: 'x', content: true }],
    services: ['svc'],
    probes: { p: 'true' },
  };
  const out = [
    'TPA-FACTS 1',
    'P\tpostgresql-15\tii \t15.20-0+deb12u1',
    'P\told\trc \t1.0',
    'F\t0\tabc\t2750\tpostgres\tpostgres\t5',
    `C\t0\t${Buffer.from('héllo').toString('base64')}`,
    'S\t0\tActiveState=active UnitFileState=enabled-runtime ',
    `R\t0\t3\t${Buffer.from('out\nput').toString('base64')}`,
    'H\trestart:postgresql@15-main',
    'H\tnot a handler; rm -rf /',
    'END',
  ].join('\n');
  const f = parseFactOutput('h', req, out);
  assert.deepEqual(f.packages, { 'postgresql-15': '15.20-0+deb12u1' });
  assert.deepEqual(f.files['/a b'], {
    sha256: 'abc',
    mode: 0o2750,
    owner: 'postgres',
    group: 'postgres',
    content: 'héllo',
  });
  assert.deepEqual(f.services.svc, { active: true, enabled: true });
  assert.equal(f.probes.p, 'out\nput');
  assert.equal(f.probeExitCodes?.p, 3);
  assert.deepEqual(f.pendingHandlers, ['restart:postgresql@15-main']);
  assert.throws(() => parseFactOutput('h', req, out.replace('\nEND', '')), FactParseError);
});

void test('the script quotes every path and name it is given', () => {
  const script = buildFactScript({
    ...emptyRequest(),
    files: [{ path: "/tmp/it's $(reboot)", sha256: 'x', content: false }],
    probes: { p: "echo 'x'" },
  });
  assert.ok(script.includes(`f 0 '/tmp/it'\\''s $(reboot)' x 0`));
  assert.ok(script.includes(`r 0 'echo '\\''x'\\'''`));
});

const PG_BIN = '/usr/lib/postgresql/15/bin';
const canRunPostgres = process.getuid?.() === 0 && existsSync(`${PG_BIN}/initdb`);

void test(
  'postgres facts from a real server: version, settings with units, roles, databases',
  { skip: canRunPostgres ? false : 'needs root and postgresql-15 on this machine' },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tpa-facts-pg-'));
    await chown(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), 0);
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const asPostgres = (cmd: string, args: string[]) =>
      execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: '/', stdio: 'pipe' });
    try {
      asPostgres(`${PG_BIN}/initdb`, ['-D', `${dir}/data`, '-A', 'peer', '--no-sync']);
      asPostgres(`${PG_BIN}/pg_ctl`, [
        '-D',
        `${dir}/data`,
        '-o',
        `-k ${dir} -p ${port} -c listen_addresses= -c work_mem=8MB`,
        '-w',
        '-l',
        `${dir}/log`,
        'start',
      ]);
      const verifier = scramVerifier('a-password');
      // the engine's own SQL, twice: it must be idempotent
      const sql =
        roleSql({
          kind: 'pg-role',
          name: 'app',
          verifier,
          attributes: ['LOGIN', 'CREATEDB'],
          inRoles: ['pg_monitor'],
        }) + databaseSql({ kind: 'pg-database', name: 'appdb', owner: 'app' });
      for (let i = 0; i < 2; i++) {
        execFileSync(
          'runuser',
          [
            '-u',
            'postgres',
            '--',
            'psql',
            '-X',
            '-q',
            '-v',
            'ON_ERROR_STOP=1',
            '-h',
            dir,
            '-p',
            port,
            '-d',
            'postgres',
          ],
          {
            cwd: '/',
            input: sql,
            stdio: ['pipe', 'pipe', 'pipe'],
          },
        );
      }

      const t = new LocalTransport({ host: 'pg', env: { PGHOST: dir, PGPORT: port } });
      const f = await gatherFacts(t, {
        ...emptyRequest(),
        settings: ['work_mem', 'shared_buffers', 'max_connections'],
      });
      const pg = f.postgres;
      assert.ok(pg, 'postgres facts present');
      assert.match(pg.version, /^15\./);
      assert.equal(pg.inRecovery, false);
      assert.match(pg.systemIdentifier ?? '', /^\d+$/);
      assert.equal(pg.dataDirectory, `${dir}/data`);
      assert.deepEqual(
        { ...pg.settings.work_mem, sourcefile: undefined },
        {
          setting: '8192',
          context: 'user',
          pendingRestart: false,
          unit: 'kB',
          vartype: 'integer',
          sourcefile: undefined,
        },
      );
      assert.equal(pg.settings.shared_buffers?.unit, '8kB');
      assert.equal(pg.settings.max_connections?.context, 'postmaster');
      assert.deepEqual(pg.roles.app, {
        verifier,
        attributes: ['CREATEDB', 'LOGIN'],
        memberOf: ['pg_monitor'],
      });
      assert.ok(pg.roles.postgres?.attributes.includes('SUPERUSER'));
      assert.equal(pg.databaseOwners?.appdb, 'app');
      assert.ok(pg.databases.includes('postgres'));
      assert.equal(pg.upstream, null);
    } finally {
      try {
        asPostgres(`${PG_BIN}/pg_ctl`, ['-D', `${dir}/data`, '-m', 'immediate', 'stop']);
      } catch {
        // not started
      }
      await rm(dir, { recursive: true, force: true });
    }
  },
);

void test('no postgres facts when no server answers', async () => {
  const t = new LocalTransport({ host: 'x', env: { PGHOST: '/nonexistent', PGPORT: '1' } });
  const f = await gatherFacts(t, emptyRequest());
  assert.equal(f.reachable, true);
  assert.equal(f.postgres, undefined);
});
