/**
 * The fact script against this machine: the parser on canned output, and postgres facts from
 * a real, throw-away PostgreSQL instance (needs root and the postgresql package).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport } from '../transport/local.ts';
import { scramVerifier } from '../secrets/scram.ts';
import {
  buildFactScript,
  emptyRequest,
  parseFactOutput,
  FactParseError,
  MAX_CONTENT_BYTES,
} from './fact-script.ts';
import { sha256 } from '../plan/diff.ts';
import { gatherFacts } from './facts.ts';
import { databaseSql, roleSql } from '../plan/sql.ts';

void test('the parser maps lines back to names and rejects truncated output', () => {
  const req = {
    ...emptyRequest(),
    files: [
      { path: '/a b', sha256: 'x', content: true },
      { path: '/big', sha256: 'y', content: true },
    ],
    directories: ['/d', '/not-a-dir'],
    services: ['svc', 'other'],
    probes: { p: 'true' },
  };
  const units =
    'ActiveState=active\nUnitFileState=enabled-runtime\n\nActiveState=inactive\nUnitFileState=disabled\n';
  const out = [
    'TPA-FACTS 1',
    'P\tpostgresql-15\tii \t15.20-0+deb12u1',
    'P\told\trc \t1.0',
    'M\t/a b\tregular file\t2750\tpostgres\tpostgres',
    'M\t/big\tregular file\t644\troot\troot',
    'M\t/unasked\tregular file\t644\troot\troot',
    'F\t/a b\tabc',
    'F\t/big\tdef',
    `C\t/a b\t${Buffer.from('héllo').toString('base64')}`,
    `C\t/big\t${Buffer.alloc(MAX_CONTENT_BYTES + 1, 'a').toString('base64')}`,
    'D\t/d\tdirectory\t755\troot\troot',
    'D\t/not-a-dir\tregular file\t644\troot\troot',
    `S\t${Buffer.from(units).toString('base64')}`,
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
  assert.deepEqual(f.files['/big'], { sha256: 'def', mode: 0o644, owner: 'root', group: 'root' });
  assert.deepEqual(Object.keys(f.files).sort(), ['/a b', '/big']);
  assert.deepEqual(f.directories, { '/d': { mode: 0o755, owner: 'root', group: 'root' } });
  assert.deepEqual(f.services, {
    svc: { active: true, enabled: true },
    other: { active: false, enabled: false },
  });
  assert.equal(f.probes.p, 'out\nput');
  assert.equal(f.probeExitCodes?.p, 3);
  assert.deepEqual(f.pendingHandlers, ['restart:postgresql@15-main']);
  assert.throws(() => parseFactOutput('h', req, out.replace('\nEND', '')), FactParseError);
});

void test('the script quotes every path and name it is given', () => {
  const script = buildFactScript({
    ...emptyRequest(),
    files: [{ path: "/tmp/it's $(reboot)", sha256: 'x', content: true }],
    probes: { p: "echo 'x'" },
  });
  assert.ok(script.includes(`sha256sum -- '/tmp/it'\\''s $(reboot)'`));
  assert.ok(script.includes(`    '/tmp/it'\\''s $(reboot)') [ "$h" = x ]`));
  assert.ok(script.includes(`r 0 'echo '\\''x'\\'''`));
  execFileSync('sh', ['-n'], { input: script });
});

void test('files and directories of this machine: one stat and one sha256sum, content only when it differs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tpa-facts-files-'));
  try {
    const same = join(dir, 'same conf');
    const changed = join(dir, "it's changed");
    const secret = join(dir, 'secret');
    const big = join(dir, 'big');
    await writeFile(same, 'a\n', { mode: 0o640 });
    await writeFile(changed, 'new\n');
    await writeFile(secret, 'hush\n');
    await writeFile(big, 'b'.repeat(MAX_CONTENT_BYTES + 10));
    const req = {
      ...emptyRequest(),
      files: [
        { path: same, sha256: sha256('a\n'), content: true },
        { path: changed, sha256: sha256('old\n'), content: true },
        { path: secret, sha256: sha256('other\n'), content: false },
        { path: big, sha256: 'x', content: true },
        { path: join(dir, 'missing'), sha256: 'x', content: true },
        { path: dir, sha256: 'x', content: true },
      ],
      directories: [dir, same, join(dir, 'nowhere')],
    };
    const f = await gatherFacts(new LocalTransport({ host: 'x' }), req);
    assert.deepEqual(Object.keys(f.files).sort(), [big, changed, same, secret].sort());
    assert.deepEqual(f.files[same], { sha256: sha256('a\n'), mode: 0o640, owner: 'root', group: 'root' });
    assert.equal(f.files[changed]?.content, 'new\n');
    assert.equal(f.files[changed]?.sha256, sha256('new\n'));
    assert.equal(f.files[secret]?.content, undefined);
    assert.equal(f.files[big]?.content, undefined);
    assert.deepEqual(Object.keys(f.directories), [dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
      // a fresh primary writes on timeline 1 (topology.ts reads the timeline from it)
      assert.match(pg.walFile ?? '', /^00000001[0-9A-F]{16}$/);
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
