import assert from 'node:assert/strict';
import crypto, { randomBytes } from 'node:crypto';
import fsp, { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, mock, test } from 'node:test';
import { ensureTls } from '../components/tls/ensure.ts';
import { testHost, testInventory } from '../../test/support/fixtures.ts';
import { forgetVault, openVault } from './open-vault.ts';
import {
  generateClusterSecrets,
  getSecret,
  listSecrets,
  loadAllSecrets,
  privateKeyPath,
  setSecret,
} from './vault.ts';

let root: string;
let dir: string;
const saved = { key: process.env.TPA_SECRET_KEY, cache: process.env.TPA_CACHE_DIR };

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tpa-open-vault-'));
  dir = join(root, 'acme');
  await mkdir(dir);
  process.env.TPA_SECRET_KEY = randomBytes(32).toString('base64');
  process.env.TPA_CACHE_DIR = join(root, 'cache');
  await generateClusterSecrets(dir, { generateSshKey: true });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
  for (const [k, v] of [
    ['TPA_SECRET_KEY', saved.key],
    ['TPA_CACHE_DIR', saved.cache],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** counts reads and writes of secrets.enc.json and AES decryptions while `fn` runs */
async function counting(
  fn: () => Promise<void>,
): Promise<{ reads: number; writes: number; decrypts: number }> {
  const n = { reads: 0, writes: 0, decrypts: 0 };
  const isStore = (p: unknown) => String(p).includes('secrets.enc.json');
  const readFile = fsp.readFile;
  const open = fsp.open;
  const createDecipheriv = crypto.createDecipheriv;
  mock.method(fsp, 'readFile', (p: unknown, ...rest: unknown[]) => {
    if (isStore(p)) n.reads++;
    return (readFile as (...a: unknown[]) => unknown)(p, ...rest);
  });
  // the store is written to a temporary file next to it, then renamed
  mock.method(fsp, 'open', (p: unknown, ...rest: unknown[]) => {
    if (isStore(p)) n.writes++;
    return (open as (...a: unknown[]) => unknown)(p, ...rest);
  });
  mock.method(crypto, 'createDecipheriv', (...a: unknown[]) => {
    n.decrypts++;
    return (createDecipheriv as (...a: unknown[]) => unknown)(...a);
  });
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    mock.restoreAll();
    syncBuiltinESMExports();
  }
  return n;
}

const hosts = ['main-1', 'main-2', 'main-3'];
const inventory = testInventory(hosts.map((name, i) => testHost({ name, address: `10.0.3.${11 + i}` })));

void test('deploy reads and decrypts the vault once for all its hosts, and writes it once', async () => {
  forgetVault(dir); // a new command: a new process
  const n = await counting(async () => {
    // connect: the SSH key for each host
    for (const _ of hosts) await getSecret(dir, 'ssh_private_key');
    await privateKeyPath(dir);
    // deploy: every secret, then TLS keys made (first deploy) or read
    const all = await loadAllSecrets(dir);
    const tls = await ensureTls(dir, inventory);
    assert.equal(tls.changes.length, 1 + hosts.length);
    for (const h of hosts) await getSecret(dir, `tls_key_${h.replace('-', '_')}`);
    assert.ok(all.postgres_password);
  });
  assert.equal(n.reads, 1);
  assert.equal(n.writes, 1);
  assert.equal(n.decrypts, (await listSecrets(dir)).length - hosts.length - 1, 'each stored secret once');
});

void test('test and restore paths: one read, each secret decrypted at most once', async () => {
  forgetVault(dir);
  const n = await counting(async () => {
    for (const _ of hosts) await getSecret(dir, 'ssh_private_key');
    await getSecret(dir, 'postgres_password');
    await getSecret(dir, 'postgres_password');
    const tls = await ensureTls(dir, inventory);
    assert.deepEqual(tls.changes, []);
    await loadAllSecrets(dir);
  });
  assert.equal(n.reads, 1);
  assert.equal(n.writes, 0);
  assert.equal(n.decrypts, (await listSecrets(dir)).length);
});

void test('a change by another process is seen; a write of this process is kept and not read back', async () => {
  const before = await getSecret(dir, 'repmgr_password');
  const vault = await openVault(dir);
  await setSecret(dir, 'other', 'v1');
  assert.equal(await openVault(dir), vault, 'the same vault after its own write');
  assert.equal(await getSecret(dir, 'other'), 'v1');
  // another process rewrites the file: same names, one changed value
  const copy = join(root, 'copy');
  await mkdir(copy);
  await writeFile(join(copy, 'secrets.enc.json'), await fsp.readFile(join(dir, 'secrets.enc.json')));
  await setSecret(copy, 'other', 'v2');
  await writeFile(join(dir, 'secrets.enc.json'), await fsp.readFile(join(copy, 'secrets.enc.json')));
  assert.equal(await getSecret(dir, 'other'), 'v2');
  assert.equal(await getSecret(dir, 'repmgr_password'), before);
});
