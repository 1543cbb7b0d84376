import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ssh2 from 'ssh2';
import {
  SecretKeyMismatchError,
  SecretKeyMissingError,
  SecretStoreError,
  SecretTamperedError,
  UnknownSecretError,
  InvalidSecretNameError,
} from './errors.ts';
import {
  GENERATED_PASSWORDS,
  generateClusterSecrets,
  getSecret,
  listSecrets,
  loadAllSecrets,
  privateKeyPath,
  removeCachedPrivateKey,
  secretRedactor,
  setSecret,
} from './vault.ts';

const mode = async (p: string) => (await stat(p)).mode & 0o777;
let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tpa-vault-test-'));
  dir = join(root, 'acme');
  await mkdir(dir);
  delete process.env.TPA_SECRET_KEY;
  process.env.TPA_KEY_FILE = join(root, 'keys', 'secret.key');
  process.env.TPA_CACHE_DIR = join(root, 'cache');
});

afterEach(() => rm(root, { recursive: true, force: true }));

const ALL = [...GENERATED_PASSWORDS, 'ssh_private_key', 'ssh_public_key'].sort();

void test('generates the passwords and an ed25519 key pair, stored encrypted 0600', async () => {
  const out = await generateClusterSecrets(dir, { generateSshKey: true });
  assert.deepEqual(out.names, ALL);
  assert.deepEqual(out.created, ALL);
  assert.deepEqual(out.files, ['secrets.enc.json', 'ssh/id_ed25519.pub']);
  assert.equal(await mode(join(dir, 'secrets.enc.json')), 0o600);
  assert.equal(await mode(process.env.TPA_KEY_FILE!), 0o600);
  assert.equal(await mode(join(root, 'keys')), 0o700);

  const values = await loadAllSecrets(dir);
  for (const name of GENERATED_PASSWORDS) assert.match(values[name]!, /^[A-Za-z0-9]{32}$/);
  assert.equal(
    new Set(GENERATED_PASSWORDS.map((n) => values[n])).size,
    GENERATED_PASSWORDS.length,
    'every password is different',
  );

  // a real OpenSSH ed25519 key pair whose halves belong together
  const priv = ssh2.utils.parseKey(values.ssh_private_key!);
  assert.ok(!(priv instanceof Error));
  assert.equal(priv.type, 'ssh-ed25519');
  assert.ok(priv.isPrivateKey());
  assert.match(values.ssh_private_key!, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
  assert.equal(out.sshPublicKey, values.ssh_public_key);
  assert.equal(values.ssh_public_key, `ssh-ed25519 ${priv.getPublicSSH().toString('base64')} tpa@acme`);
  assert.equal(await readFile(join(dir, 'ssh', 'id_ed25519.pub'), 'utf8'), `${values.ssh_public_key}\n`);

  // nothing in the directory holds a value in plain, except the public key
  const text = await readFile(join(dir, 'secrets.enc.json'), 'utf8');
  for (const [name, value] of Object.entries(values)) {
    assert.ok(text.includes(`"${name}"`));
    assert.ok(!text.includes(value), `${name} in plain`);
  }
  for (const line of values.ssh_private_key!.split('\n').slice(2, -2)) assert.ok(!text.includes(line));
});

void test('generating again changes nothing, not even the bytes of the store', async () => {
  await generateClusterSecrets(dir, { generateSshKey: true });
  const before = await readFile(join(dir, 'secrets.enc.json'), 'utf8');
  const values = await loadAllSecrets(dir);
  const again = await generateClusterSecrets(dir, { generateSshKey: true });
  assert.deepEqual(again.created, []);
  assert.deepEqual(again.names, ALL);
  assert.equal(again.sshPublicKey, values.ssh_public_key);
  assert.equal(await readFile(join(dir, 'secrets.enc.json'), 'utf8'), before);
  assert.deepEqual(await loadAllSecrets(dir), values);
});

void test('without generateSshKey no key pair is made, and one can be added later', async () => {
  const out = await generateClusterSecrets(dir, { generateSshKey: false });
  assert.deepEqual(out.names, [...GENERATED_PASSWORDS].sort());
  assert.equal(out.sshPublicKey, undefined);
  assert.deepEqual(out.files, ['secrets.enc.json']);
  const pw = await getSecret(dir, 'postgres_password');
  const later = await generateClusterSecrets(dir, { generateSshKey: true });
  assert.deepEqual(later.created, ['ssh_private_key', 'ssh_public_key']);
  assert.equal(await getSecret(dir, 'postgres_password'), pw);
});

void test('a missing password is filled in without touching the others', async () => {
  await setSecret(dir, 'postgres_password', 'chosen-by-the-customer');
  const out = await generateClusterSecrets(dir, { generateSshKey: false });
  assert.ok(!out.created.includes('postgres_password'));
  assert.equal(await getSecret(dir, 'postgres_password'), 'chosen-by-the-customer');
});

void test('a lost public half is derived again from the private key', async () => {
  const first = await generateClusterSecrets(dir, { generateSshKey: true });
  const store = JSON.parse(await readFile(join(dir, 'secrets.enc.json'), 'utf8')) as {
    secrets: Record<string, unknown>;
  };
  delete store.secrets.ssh_public_key;
  await writeFile(join(dir, 'secrets.enc.json'), JSON.stringify(store), { mode: 0o600 });
  const again = await generateClusterSecrets(dir, { generateSshKey: true });
  assert.deepEqual(again.created, ['ssh_public_key']);
  assert.equal(again.sshPublicKey, first.sshPublicKey);
});

void test('setSecret/getSecret keep any later secret, multi-line included', async () => {
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
  await setSecret(dir, 'tls_ca_key', pem);
  await setSecret(dir, 'other', 'v1');
  await setSecret(dir, 'other', 'v2');
  assert.equal(await getSecret(dir, 'tls_ca_key'), pem);
  assert.equal(await getSecret(dir, 'other'), 'v2');
  assert.deepEqual(await listSecrets(dir), ['other', 'tls_ca_key']);
  assert.equal(await mode(join(dir, 'secrets.enc.json')), 0o600);
  assert.deepEqual((await readdir(dir)).sort(), ['secrets.enc.json'], 'no temporary files left');
});

void test('concurrent setSecret calls in one process lose no update', async () => {
  await Promise.all(Array.from({ length: 10 }, (_, i) => setSecret(dir, `s${i}`, `value-${i}`)));
  const all = await loadAllSecrets(dir);
  for (let i = 0; i < 10; i++) assert.equal(all[`s${i}`], `value-${i}`);
});

void test('bad names are refused', async () => {
  for (const bad of ['', 'Upper', '1x', 'with space', 'a/b', 'x'.repeat(65)]) {
    await assert.rejects(setSecret(dir, bad, 'v'), InvalidSecretNameError);
  }
});

void test('an unknown name is a usage error listing the known names', async () => {
  await generateClusterSecrets(dir, { generateSshKey: false });
  await assert.rejects(
    getSecret(dir, 'postgres_pasword'),
    (e: unknown) =>
      e instanceof UnknownSecretError &&
      e.exitCode === 2 &&
      GENERATED_PASSWORDS.every((n) => e.hint?.includes(n)),
  );
});

void test('listing needs no key; reading without the key says which file and variable', async () => {
  await generateClusterSecrets(dir, { generateSshKey: false });
  process.env.TPA_KEY_FILE = join(root, 'elsewhere', 'secret.key');
  assert.deepEqual(await listSecrets(dir), [...GENERATED_PASSWORDS].sort());
  await assert.rejects(
    getSecret(dir, 'postgres_password'),
    (e: unknown) =>
      e instanceof SecretKeyMissingError &&
      e.message.includes(process.env.TPA_KEY_FILE!) &&
      /TPA_SECRET_KEY/.test(e.hint ?? ''),
  );
  // writing must not quietly start a second key beside the secrets made with the first
  await assert.rejects(setSecret(dir, 'x', 'y'), SecretKeyMissingError);
  await assert.rejects(generateClusterSecrets(dir, { generateSshKey: true }), SecretKeyMissingError);
  await assert.rejects(stat(process.env.TPA_KEY_FILE));
});

void test('another key is reported as a mismatch, for reading and for writing', async () => {
  await generateClusterSecrets(dir, { generateSshKey: false });
  process.env.TPA_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');
  await assert.rejects(getSecret(dir, 'postgres_password'), SecretKeyMismatchError);
  await assert.rejects(loadAllSecrets(dir), SecretKeyMismatchError);
  await assert.rejects(setSecret(dir, 'x', 'y'), SecretKeyMismatchError);
  delete process.env.TPA_SECRET_KEY;
  assert.deepEqual(await listSecrets(dir), [...GENERATED_PASSWORDS].sort());
});

void test('TPA_SECRET_KEY alone is enough to read what the key file encrypted', async () => {
  await generateClusterSecrets(dir, { generateSshKey: false });
  const pw = await getSecret(dir, 'postgres_password');
  process.env.TPA_SECRET_KEY = (await readFile(process.env.TPA_KEY_FILE!, 'utf8')).trim();
  process.env.TPA_KEY_FILE = join(root, 'absent');
  assert.equal(await getSecret(dir, 'postgres_password'), pw);
});

void test('an edited store file fails with a typed error, and is not written over', async () => {
  await generateClusterSecrets(dir, { generateSshKey: false });
  const file = join(dir, 'secrets.enc.json');
  const store = JSON.parse(await readFile(file, 'utf8')) as {
    secrets: Record<string, { data: string }>;
  };
  const entry = store.secrets.barman_password!;
  const data = Buffer.from(entry.data, 'base64');
  data[0] = data[0]! ^ 0x80;
  entry.data = data.toString('base64');
  const tampered = JSON.stringify(store);
  await writeFile(file, tampered);
  await assert.rejects(getSecret(dir, 'barman_password'), SecretTamperedError);
  await assert.rejects(loadAllSecrets(dir), SecretTamperedError);
  await assert.rejects(setSecret(dir, 'x', 'value'), SecretTamperedError);
  assert.equal(await readFile(file, 'utf8'), tampered);
  assert.equal(typeof (await getSecret(dir, 'postgres_password')), 'string');

  await writeFile(file, '{ not json');
  await assert.rejects(listSecrets(dir), SecretStoreError);
  await writeFile(file, JSON.stringify({ format: 'other' }));
  await assert.rejects(listSecrets(dir), SecretStoreError);
});

void test('the private key file lives outside the cluster directory, 0600, rewritten on demand', async () => {
  await generateClusterSecrets(dir, { generateSshKey: true });
  const path = await privateKeyPath(dir);
  assert.ok(relative(dir, path).startsWith('..'), 'outside the cluster directory');
  assert.ok(path.startsWith(join(root, 'cache')));
  assert.equal(await mode(path), 0o600);
  assert.equal(await mode(join(path, '..')), 0o700);
  assert.equal(await readFile(path, 'utf8'), await getSecret(dir, 'ssh_private_key'));
  await rm(path);
  assert.equal(await privateKeyPath(dir), path);
  assert.equal(await readFile(path, 'utf8'), await getSecret(dir, 'ssh_private_key'));
  await removeCachedPrivateKey(dir);
  await assert.rejects(stat(path));
});

void test('two directories with the same name get different private key files', async () => {
  const other = join(root, 'x', 'acme');
  await mkdir(other, { recursive: true });
  await generateClusterSecrets(dir, { generateSshKey: true });
  await generateClusterSecrets(other, { generateSshKey: true });
  assert.notEqual(await privateKeyPath(dir), await privateKeyPath(other));
});

void test('privateKeyPath without a key pair names the known secrets', async () => {
  await generateClusterSecrets(dir, { generateSshKey: false });
  await assert.rejects(privateKeyPath(dir), UnknownSecretError);
});

void test('secretRedactor masks every secret of the directory', async () => {
  await generateClusterSecrets(dir, { generateSshKey: true });
  const values = await loadAllSecrets(dir);
  const redact = await secretRedactor(dir);
  const text = `pw=${values.postgres_password} key:\n${values.ssh_private_key}`;
  const out = redact(text);
  assert.ok(!out.includes(values.postgres_password!));
  for (const line of values.ssh_private_key!.split('\n').slice(1, -2)) assert.ok(!out.includes(line));
});

void test('a directory that does not exist is a usage error', async () => {
  await assert.rejects(generateClusterSecrets(join(root, 'nope'), { generateSshKey: true }), (e: unknown) => {
    return e instanceof Error && 'exitCode' in e && e.exitCode === 2;
  });
});
