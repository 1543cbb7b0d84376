import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { parseSshPublicKey } from './ssh-key.ts';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const sshString = (b: Buffer) => Buffer.concat([u32(b.length), b]);
// SSH mpint: big-endian, with a 0 byte in front when the top bit is set
const mpint = (b: Buffer) => sshString(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);

function ed25519Line(comment = 'alice@laptop'): string {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-ed25519')),
    sshString(Buffer.from(jwk.x!, 'base64url')),
  ]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

function rsaLine(): string {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    mpint(Buffer.from(jwk.e!, 'base64url')),
    mpint(Buffer.from(jwk.n!, 'base64url')),
  ]);
  return `ssh-rsa ${blob.toString('base64')}`;
}

const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBw0b3fY9SzaR0v5qVId/d4FzgAEbX7qXuVh3sg9cGi04APTMvEUCFnrAgy8x6j9CQvJzUU+yk6svQ4UYlHxiDw= root@vm';

void test('well-formed ed25519, rsa and ecdsa keys are accepted, with their comment', () => {
  const ed = parseSshPublicKey(ed25519Line('alice at work'));
  assert.equal(ed.ok, true);
  assert.equal(ed.ok && ed.comment, 'alice at work');
  assert.equal(parseSshPublicKey(rsaLine()).ok, true);
  const ec = parseSshPublicKey(ECDSA);
  assert.equal(ec.ok && ec.type, 'ecdsa-sha2-nistp256');
});

void test('a type that does not match the blob is refused', () => {
  const [, blob] = ed25519Line().split(' ');
  const r = parseSshPublicKey(`ssh-rsa ${blob}`);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.problem : '', /says "ssh-rsa" but its key data is a "ssh-ed25519" key/);
});

void test('broken keys are refused with the reason', () => {
  const line = ed25519Line();
  const [type, blob] = line.split(' ') as [string, string];
  const cases: [string, RegExp][] = [
    ['', /unknown key type ""/],
    ['ssh-foo AAAA', /unknown key type "ssh-foo"/],
    ['ssh-dss AAAAB3NzaC1kc3MAAACBAP', /DSA/],
    [type, /no key data/],
    [`${type} ${blob.slice(0, -3)}`, /not valid base64/],
    [`${type} ${blob.replace(/[A-Za-z]/, '!')}`, /not valid base64/],
    [`${type} AAAA`, /too short/],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----', /private key/],
  ];
  for (const [text, re] of cases) {
    const r = parseSshPublicKey(text);
    assert.equal(r.ok, false, text);
    assert.match(r.ok ? '' : r.problem, re, text);
  }
});
