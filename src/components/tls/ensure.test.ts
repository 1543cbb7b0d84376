import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { after, before, test } from 'node:test';
import type { InventoryHost } from '../../platforms/platform.ts';
import { testHost, testInventory } from '../../../test/support/fixtures.ts';
import { getSecret, listSecrets } from '../../secrets/vault.ts';
import { signedBy, subjectAltNames } from './certs.ts';
import { ensureTls } from './ensure.ts';
import { TLS_CA_CERT, tlsCertName, tlsKeyName } from './names.ts';

let dir: string;
const savedKey = process.env.TPA_SECRET_KEY;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tpa-tls-'));
  process.env.TPA_SECRET_KEY = randomBytes(32).toString('base64');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  if (savedKey === undefined) delete process.env.TPA_SECRET_KEY;
  else process.env.TPA_SECRET_KEY = savedKey;
});

const host = (name: string, address: string, kind: InventoryHost['kind'] = 'postgres') =>
  testHost({ name, address, kind });

void test('creates a CA and per-node certificates that openssl verifies, with name and address SANs', async () => {
  const inv = testInventory([
    host('main-1', '127.0.0.1'),
    host('main-2', '10.0.3.12'),
    host('backup-1', '10.0.3.20', 'barman'),
  ]);
  const r = await ensureTls(dir, inv);
  assert.deepEqual(r.files.sort(), ['secrets.enc.json', 'tls/ca.crt', 'tls/main-1.crt', 'tls/main-2.crt']);
  assert.equal(r.changes.length, 3);
  // keys only in the vault (encrypted), certificates in files
  const names = await listSecrets(dir);
  assert.ok(
    names.includes('tls_ca_key') && names.includes('tls_key_main_1') && names.includes('tls_key_main_2'),
  );
  const store = await readFile(join(dir, 'secrets.enc.json'), 'utf8');
  assert.ok(!store.includes('PRIVATE KEY'));
  assert.equal(r.secrets[tlsKeyName('main-1')], await getSecret(dir, 'tls_key_main_1'));
  assert.equal(r.secrets[TLS_CA_CERT], await readFile(join(dir, 'tls/ca.crt'), 'utf8'));
  assert.equal(r.secrets[tlsCertName('backup-1')], undefined);

  const out = execFileSync('openssl', [
    'verify',
    '-CAfile',
    join(dir, 'tls/ca.crt'),
    join(dir, 'tls/main-2.crt'),
  ]);
  assert.match(out.toString(), /main-2\.crt: OK/);
  const text = execFileSync('openssl', [
    'x509',
    '-noout',
    '-text',
    '-in',
    join(dir, 'tls/main-2.crt'),
  ]).toString();
  assert.match(text, /DNS:main-2/);
  assert.match(text, /IP Address:10\.0\.3\.12/);
  assert.match(text, /CA:FALSE/);
  const caText = execFileSync('openssl', [
    'x509',
    '-noout',
    '-text',
    '-in',
    join(dir, 'tls/ca.crt'),
  ]).toString();
  assert.match(caText, /CA:TRUE, pathlen:0/);
  // the key file matches the certificate (openssl's own view)
  const keyFile = join(dir, 'k.pem');
  await writeFile(keyFile, r.secrets[tlsKeyName('main-2')]!, { mode: 0o600 });
  const mod = (args: string[]) => execFileSync('openssl', args).toString().trim();
  assert.equal(
    mod(['rsa', '-noout', '-modulus', '-in', keyFile]),
    mod(['x509', '-noout', '-modulus', '-in', join(dir, 'tls/main-2.crt')]),
  );
  await rm(keyFile);
});

void test('a TLS client that trusts only the CA accepts the node by name and by address', async () => {
  const r = await ensureTls(dir, testInventory([host('main-1', '127.0.0.1'), host('main-2', '10.0.3.12')]));
  const server = createServer(
    { key: r.secrets[tlsKeyName('main-1')], cert: r.secrets[tlsCertName('main-1')] },
    (s) => s.end('hello'),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const handshake = async (servername: string | undefined) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: r.secrets[TLS_CA_CERT],
      ...(servername ? { servername } : {}),
    });
    try {
      await once(socket, 'secureConnect');
      return 'ok';
    } catch (e) {
      return (e as Error).message;
    } finally {
      socket.destroy();
    }
  };
  assert.equal(await handshake('main-1'), 'ok');
  assert.equal(await handshake(undefined), 'ok'); // checked against the IP SAN 127.0.0.1
  assert.match(await handshake('main-2'), /does not match|altnames/i);
  server.close();
});

void test('idempotent: a second run reuses everything; a changed address gets a new certificate', async () => {
  const inv = testInventory([host('main-1', '127.0.0.1'), host('main-2', '10.0.3.12')]);
  const first = await ensureTls(dir, inv);
  const again = await ensureTls(dir, inv);
  assert.deepEqual(again.files, []);
  assert.deepEqual(again.changes, []);
  assert.deepEqual(again.secrets, first.secrets);

  const moved = await ensureTls(
    dir,
    testInventory([host('main-1', '127.0.0.1'), host('main-2', '10.0.3.99')]),
  );
  assert.deepEqual(moved.files.sort(), ['secrets.enc.json', 'tls/main-2.crt']);
  assert.equal(moved.secrets[TLS_CA_CERT], first.secrets[TLS_CA_CERT]);
  assert.equal(moved.secrets[tlsCertName('main-1')], first.secrets[tlsCertName('main-1')]);
  assert.deepEqual(subjectAltNames(moved.secrets[tlsCertName('main-2')]!).ip, ['10.0.3.99']);
  assert.ok(signedBy(moved.secrets[tlsCertName('main-2')]!, first.secrets[TLS_CA_CERT]!));
});

void test('certificates close to expiry are issued again', async () => {
  const inv = testInventory([host('main-1', '127.0.0.1')]);
  const now = await ensureTls(dir, inv);
  const later = new Date(Date.now() + 800 * 86_400_000);
  const renewed = await ensureTls(dir, inv, later);
  assert.deepEqual(renewed.files.sort(), ['secrets.enc.json', 'tls/main-1.crt']);
  assert.notEqual(renewed.secrets[tlsCertName('main-1')], now.secrets[tlsCertName('main-1')]);
});

void test('a CA certificate without its key (or a foreign one) is an error, never a silent new CA', async () => {
  const other = await mkdtemp(join(tmpdir(), 'tpa-tls-'));
  try {
    await ensureTls(other, testInventory([host('main-1', '127.0.0.1')]));
    // replace ca.crt with the CA of another directory
    await writeFile(join(other, 'tls/ca.crt'), await readFile(join(dir, 'tls/ca.crt'), 'utf8'));
    await assert.rejects(
      ensureTls(other, testInventory([host('main-1', '127.0.0.1')])),
      /does not belong to the CA key/,
    );
    await rm(join(other, 'tls/ca.crt'));
    await assert.rejects(ensureTls(other, testInventory([host('main-1', '127.0.0.1')])), /CA is incomplete/);
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});
