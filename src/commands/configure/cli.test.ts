import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const tpa = resolve(import.meta.dirname, '../../../bin/tpa');
let root: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tpa-configure-cli-'));
  env = { ...process.env, NO_COLOR: '1', TPA_SECRET_KEY: randomBytes(32).toString('base64') };
});
after(() => rm(root, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(tpa, args, { env, encoding: 'utf8', cwd: root });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

void test('tpa configure then tpa validate and tpa cost: a new committed directory that validates', async () => {
  const r = run([
    'configure',
    'acme',
    '--replicas',
    '1',
    '--durability',
    'sync',
    '--client-cidr',
    '203.0.113.0/24',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote acme\/config\.yml: group acme, hosts main-1, main-2, backup-1/);
  assert.match(r.stdout, /committed config\.yml, secrets\.enc\.json, ssh\/id_ed25519\.pub as [0-9a-f]{12}/);
  // one replica with sync durability is allowed, with a warning
  assert.match(r.stderr, /clusters\.0\.durability: warning: durability sync/);
  const v = run(['validate', 'acme']);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const text = await readFile(join(root, 'acme', 'config.yml'), 'utf8');
  assert.match(text, /client_cidrs:\n\s+- 203\.0\.113\.0\/24/);
  const c = run(['cost', 'acme', '--json']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((JSON.parse(c.stdout) as { total: number }).total, 0);
});

void test('tpa configure with bad options exits 2, names the option, writes nothing', async () => {
  const r = run(['configure', 'bad', '--retention', 'forever', '--client-cidr', '10.0.0.1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^--retention backup\.retention: "forever" is not a barman retention policy/m);
  assert.match(r.stderr, /^--client-cidr access\.client_cidrs\.0: "10\.0\.0\.1" has no prefix length/m);
  await assert.rejects(stat(join(root, 'bad')), /ENOENT/);
  const commander = run(['configure', 'bad', '--replicas', 'two']);
  assert.equal(commander.code, 2);
  assert.match(commander.stderr, /--replicas takes a whole number/);
  const patroni = run(['configure', 'bad', '--failover-manager', 'patroni', '--json']);
  assert.equal(patroni.code, 2);
  const out = JSON.parse(patroni.stdout) as { error: string; issues: { file: string; message: string }[] };
  assert.equal(out.error, 'ConfigError');
  assert.equal(out.issues[0]?.file, '--failover-manager');
  assert.match(out.issues[0]?.message ?? '', /patroni is not implemented/);
  await assert.rejects(stat(join(root, 'bad')), /ENOENT/);
});

void test('tpa configure refuses an existing non-empty directory (exit 2)', () => {
  const r = run(['configure', 'acme-again', '--backup', 'none', '--replicas', '0']);
  assert.equal(r.code, 0, r.stderr);
  const again = run(['configure', 'acme-again']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists and is not empty/);
});

void test('tpa configure --help shows examples', () => {
  const r = run(['configure', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Examples:/);
  assert.match(r.stdout, /--platform <name>/);
});
