import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateClusterSecrets, GENERATED_PASSWORDS, loadAllSecrets } from '../../secrets/vault.ts';

const tpa = resolve(import.meta.dirname, '../../../bin/tpa');
let root: string;
let dir: string;
let values: Record<string, string>;
let env: NodeJS.ProcessEnv;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tpa-secrets-cli-'));
  dir = join(root, 'acme');
  await mkdir(dir);
  env = { ...process.env, TPA_KEY_FILE: join(root, 'secret.key'), NO_COLOR: '1' };
  delete env.TPA_SECRET_KEY;
  process.env.TPA_KEY_FILE = env.TPA_KEY_FILE;
  delete process.env.TPA_SECRET_KEY;
  await generateClusterSecrets(dir, { generateSshKey: true });
  values = await loadAllSecrets(dir);
});

after(() => rm(root, { recursive: true, force: true }));

function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(tpa, args, { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertNoValues(text: string) {
  for (const [name, value] of Object.entries(values)) {
    if (name !== 'ssh_public_key') assert.ok(!text.includes(value), `${name} leaked`);
  }
}

void test('tpa secrets DIR lists the names, never the values', () => {
  const r = run(['secrets', dir]);
  assert.equal(r.code, 0, r.stderr);
  const names = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(names, [...GENERATED_PASSWORDS, 'ssh_private_key', 'ssh_public_key'].sort());
  assertNoValues(r.stdout + r.stderr);
});

void test('tpa secrets DIR --json lists the names as JSON', () => {
  const r = run(['secrets', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const listing = JSON.parse(r.stdout) as { secrets: { name: string }[]; keySource: string };
  assert.deepEqual(
    listing.secrets.map((s) => s.name),
    Object.keys(values).sort(),
  );
  assert.equal(listing.keySource, env.TPA_KEY_FILE);
  assertNoValues(r.stdout + r.stderr);
});

void test('tpa secrets DIR NAME prints exactly the value, nothing else', () => {
  const pw = run(['secrets', dir, 'postgres_password']);
  assert.equal(pw.code, 0, pw.stderr);
  assert.equal(pw.stdout, values.postgres_password);
  assert.equal(pw.stderr, '');
  const key = run(['secrets', dir, 'ssh_private_key']);
  assert.equal(key.stdout, values.ssh_private_key);
  const json = run(['secrets', dir, 'replication_password', '--json']);
  assert.deepEqual(JSON.parse(json.stdout), {
    name: 'replication_password',
    value: values.replication_password,
  });
});

void test('an unknown name exits 2 and lists the known names', () => {
  const r = run(['secrets', dir, 'postgres']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /no secret named postgres\b/);
  assert.match(r.stderr, /known secrets: .*postgres_password/);
  assertNoValues(r.stderr);
});

void test('without the key: exit 1, the key file and the variables in the hint, no stack trace', () => {
  const missing = join(root, 'nowhere', 'secret.key');
  const r = run(['secrets', dir, 'postgres_password'], { TPA_KEY_FILE: missing });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.ok(r.stderr.includes(missing));
  assert.match(r.stderr, /hint: .*TPA_SECRET_KEY/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const json = run(['secrets', dir, 'postgres_password', '--json'], { TPA_KEY_FILE: missing });
  const err = JSON.parse(json.stdout) as { ok: boolean; error: string; hint: string };
  assert.equal(err.ok, false);
  assert.equal(err.error, 'SecretKeyMissingError');
});

void test('with another key: exit 1, mismatch reported, nothing printed on stdout', () => {
  const r = run(['secrets', dir, 'postgres_password'], {
    TPA_SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
  });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /encrypted with key [0-9a-f]{16}/);
});

void test('a directory that does not exist exits 2', () => {
  const r = run(['secrets', join(root, 'nope')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is not a directory/);
});

void test('--help has examples', () => {
  const r = run(['secrets', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Examples:/);
  assert.match(r.stdout, /tpa secrets acme postgres_password/);
});
