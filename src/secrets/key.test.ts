import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretKeyInvalidError, SecretKeyMissingError } from './errors.ts';
import { keyFilePath, loadKey, loadOrCreateKey } from './key.ts';

const mode = async (p: string) => (await stat(p)).mode & 0o777;

const scratchDirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tpa-key-test-'));
  scratchDirs.push(dir);
  return dir;
}
after(() => Promise.all(scratchDirs.map((d) => rm(d, { recursive: true, force: true }))));

void test('the key file is created 0600 in a new 0700 directory, holding base64 of 32 bytes', async () => {
  const root = await scratch();
  const file = join(root, 'config', 'tpa', 'secret.key');
  const key = await loadOrCreateKey({ TPA_KEY_FILE: file });
  assert.equal(await mode(file), 0o600);
  assert.equal(await mode(join(root, 'config', 'tpa')), 0o700);
  const text = await readFile(file, 'utf8');
  assert.equal(Buffer.from(text.trim(), 'base64').length, 32);
  assert.deepEqual(Buffer.from(text.trim(), 'base64'), key.bytes);
  assert.match(key.id, /^[0-9a-f]{16}$/);
  assert.equal(key.source, file);
  // no temporary file is left behind
  assert.deepEqual(await readdir(join(root, 'config', 'tpa')), ['secret.key']);
});

void test('the modes hold even under a permissive umask', async () => {
  const root = await scratch();
  const file = join(root, 'd', 'secret.key');
  const old = process.umask(0);
  try {
    await loadOrCreateKey({ TPA_KEY_FILE: file });
  } finally {
    process.umask(old);
  }
  assert.equal(await mode(file), 0o600);
  assert.equal(await mode(join(root, 'd')), 0o700);
});

void test('an existing key is reused, never replaced', async () => {
  const root = await scratch();
  const env = { TPA_KEY_FILE: join(root, 'k', 'secret.key') };
  const first = await loadOrCreateKey(env);
  const second = await loadOrCreateKey(env);
  const loaded = await loadKey(env);
  assert.deepEqual(second.bytes, first.bytes);
  assert.deepEqual(loaded.bytes, first.bytes);
});

void test('processes racing to create the key end up with one key', async () => {
  const root = await scratch();
  const env = { TPA_KEY_FILE: join(root, 'k', 'secret.key') };
  const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKey(env)));
  for (const k of keys) assert.deepEqual(k.bytes, keys[0]!.bytes);
  assert.deepEqual(await readdir(join(root, 'k')), ['secret.key']);
});

void test('reading without a key is a typed error naming the file and the variables', async () => {
  const root = await scratch();
  const file = join(root, 'absent.key');
  await assert.rejects(
    loadKey({ TPA_KEY_FILE: file }),
    (e: unknown) =>
      e instanceof SecretKeyMissingError &&
      e.message.includes(file) &&
      e.exitCode === 1 &&
      /TPA_SECRET_KEY/.test(e.hint ?? '') &&
      /TPA_KEY_FILE/.test(e.hint ?? ''),
  );
  // loadKey never creates
  await assert.rejects(stat(file));
});

void test('TPA_SECRET_KEY wins over the key file and is validated', async () => {
  const root = await scratch();
  const bytes = randomBytes(32);
  const file = join(root, 'never-created.key');
  const key = await loadOrCreateKey({ TPA_SECRET_KEY: bytes.toString('base64'), TPA_KEY_FILE: file });
  assert.deepEqual(key.bytes, bytes);
  assert.equal(key.source, 'TPA_SECRET_KEY');
  await assert.rejects(stat(file));
  for (const bad of ['not base64!', randomBytes(16).toString('base64'), randomBytes(33).toString('base64')]) {
    await assert.rejects(
      loadKey({ TPA_SECRET_KEY: bad }),
      (e: unknown) =>
        e instanceof SecretKeyInvalidError && /TPA_SECRET_KEY/.test(e.message) && !e.message.includes(bad),
    );
  }
});

void test('a key file readable by others is refused, like ssh does', async () => {
  const root = await scratch();
  const file = join(root, 'secret.key');
  await writeFile(file, randomBytes(32).toString('base64') + '\n');
  await chmod(file, 0o644);
  await assert.rejects(loadKey({ TPA_KEY_FILE: file }), (e: unknown) => {
    return e instanceof SecretKeyInvalidError && e.hint === `chmod 600 ${file}`;
  });
  await chmod(file, 0o600);
  assert.equal((await loadKey({ TPA_KEY_FILE: file })).bytes.length, 32);
});

void test('a damaged key file is refused', async () => {
  const root = await scratch();
  const file = join(root, 'secret.key');
  await writeFile(file, 'garbage\n', { mode: 0o600 });
  await assert.rejects(loadKey({ TPA_KEY_FILE: file }), SecretKeyInvalidError);
});

void test('the default key file is under XDG_CONFIG_HOME, else ~/.config', () => {
  assert.equal(keyFilePath({ XDG_CONFIG_HOME: '/x/cfg' }), '/x/cfg/tpa/secret.key');
  assert.equal(keyFilePath({ HOME: '/home/u' }).endsWith(join('.config', 'tpa', 'secret.key')), true);
  assert.equal(keyFilePath({ TPA_KEY_FILE: '/k/f', XDG_CONFIG_HOME: '/x' }), '/k/f');
});
