import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCorpus } from '../../model/testdata/corpus.ts';

const tpa = resolve(import.meta.dirname, '../../../bin/tpa');
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tpa-validate-cli-'));
});
after(() => rm(root, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(tpa, args, { env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// a sample of the corpus through the real CLI process; the whole corpus goes through the parser in corpus.test.ts
const SAMPLE = [
  'yaml-duplicate-key',
  'enum-role',
  'unknown-node-field',
  'upstream-cycle',
  'several-rules-at-once',
  'postgres-settings',
];

for (const c of loadCorpus().filter((x) => SAMPLE.some((s) => x.name.endsWith(s)))) {
  void test(`tpa validate ${c.name}: exit 2, each problem as config.yml:LINE:COL path: message`, async () => {
    const dir = join(root, c.name);
    await mkdir(dir);
    await copyFile(c.file, join(dir, 'config.yml'));
    const r = run(['validate', dir]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const e of c.expected) {
      const prefix = `config.yml:${e.line}:`;
      const hit = lines.find((l) => l.startsWith(prefix) && (e.path === '' || l.includes(` ${e.path}: `)));
      assert.ok(hit, `no line for ${e.line} ${e.path} in:\n${r.stdout}`);
      assert.match(hit, e.message);
      assert.match(hit, /^config\.yml:\d+:\d+ /);
    }
    assert.equal(lines.filter((l) => !l.includes('warning:')).length, c.expected.length, r.stdout);
  });
}

void test('tpa validate: a valid config exits 0 and prints its warnings; --json gives the report', async () => {
  const dir = join(root, 'warned');
  await mkdir(dir);
  await writeFile(
    join(dir, 'config.yml'),
    'name: acme\naccess: { client_auth: md5 }\nclusters:\n  - name: main\n    nodes:\n      - { name: main-1, role: primary }\n',
  );
  const r = run(['validate', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^config\.yml:2:11 access\.client_auth: warning: md5 .* \(keep md5 only/m);
  assert.match(r.stdout, /^config\.yml:5:5 clusters\.0\.nodes: warning: .*single node/m);
  assert.match(r.stderr, /is valid \(0 errors, 3 warnings\)/);
  const j = run(['validate', dir, '--json']);
  assert.equal(j.code, 0);
  const report = JSON.parse(j.stdout) as { ok: boolean; errors: unknown[]; warnings: { path: string }[] };
  assert.equal(report.ok, true);
  assert.deepEqual(report.errors, []);
  assert.deepEqual(
    report.warnings.map((w) => w.path),
    ['backup.mode', 'access.client_auth', 'clusters.0.nodes'],
  );
});

void test('tpa validate: a missing directory or config.yml exits 2 with a hint', () => {
  const r = run(['validate', join(root, 'nope')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /does not exist/);
  assert.match(r.stderr, /hint: create one with: tpa configure/);
  const j = run(['validate', root, '--json']);
  assert.equal(j.code, 2);
  assert.equal((JSON.parse(j.stdout) as { error: string }).error, 'UsageError');
});

void test('tpa validate, plan and deploy: a postgres setting the server would refuse, at its line and column', async () => {
  const dir = join(root, 'pg-setting');
  await mkdir(dir);
  const text = [
    'name: acme',
    'clusters:',
    '  - name: main',
    '    postgres_settings:',
    '      work_mem: 64MB',
    '      shared_buffers: lots',
    '    nodes:',
    '      - { name: main-1, role: primary }',
    '      - { name: main-2, role: replica }',
    '',
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), text);
  const expected =
    'config.yml:6:7 clusters.0.postgres_settings.shared_buffers: "lots" is not a valid memory size ' +
    '(use a number of 8kB pages or a size in B, kB, MB, GB or TB, case-sensitive: 16 to 1073741823 pages, 128kB to ~8TB)';
  const r = run(['validate', dir]);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(
    r.stdout.split('\n').filter((l) => l !== '' && !l.includes('warning:')),
    [expected],
  );
  assert.match(r.stderr, /1 error, /);
  // plan and deploy read config.yml through the same rules: refused before anything is done
  for (const verb of ['plan', 'deploy']) {
    const v = run([verb, dir]);
    assert.equal(v.code, 2, `${verb}: ${v.stderr}`);
    assert.ok(`${v.stdout}${v.stderr}`.includes(expected), `${verb}: ${v.stdout}${v.stderr}`);
  }
  assert.equal(await readFile(join(dir, 'config.yml'), 'utf8'), text);
  assert.deepEqual(await readdir(dir), ['config.yml']);
});
