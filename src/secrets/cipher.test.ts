import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret } from './cipher.ts';
import { SecretKeyMismatchError, SecretTamperedError } from './errors.ts';
import { keyId, type VaultKey } from './key.ts';

function newKey(): VaultKey {
  const bytes = randomBytes(32);
  return { bytes, id: keyId(bytes), source: 'test' };
}

/** flips one bit of a base64 field */
function flip(b64: string, index = 0): string {
  const buf = Buffer.from(b64, 'base64');
  buf[index] = buf[index]! ^ 0x01;
  return buf.toString('base64');
}

void test('encrypt then decrypt gives the value back, for text of any shape', () => {
  const key = newKey();
  for (const value of ['s3cret', '', 'ünïcödé ✓', 'line 1\nline 2\n', 'x'.repeat(100_000)]) {
    const entry = encryptSecret(key, 'some_secret', value);
    assert.equal(decryptSecret(key, 'some_secret', entry, 'f'), value);
  }
});

void test('the ciphertext does not contain the value, and every encryption uses a fresh IV', () => {
  const key = newKey();
  const value = 'CorrectHorseBatteryStaple';
  const a = encryptSecret(key, 'p', value);
  const b = encryptSecret(key, 'p', value);
  assert.notEqual(a.iv, b.iv);
  assert.notEqual(a.data, b.data);
  assert.equal(Buffer.from(a.iv, 'base64').length, 12);
  assert.equal(Buffer.from(a.tag, 'base64').length, 16);
  const json = JSON.stringify(a);
  assert.ok(!json.includes(value));
  assert.ok(!json.includes(Buffer.from(value).toString('base64')));
  assert.equal(a.kid, key.id);
});

void test('any change to data, tag or IV fails authentication with a typed error', () => {
  const key = newKey();
  const entry = encryptSecret(key, 'postgres_password', 'a-password-of-some-length');
  const variants = [
    { ...entry, data: flip(entry.data) },
    { ...entry, data: flip(entry.data, 5) },
    { ...entry, tag: flip(entry.tag) },
    { ...entry, iv: flip(entry.iv) },
    { ...entry, data: Buffer.from(entry.data, 'base64').subarray(1).toString('base64') },
  ];
  for (const v of variants) {
    assert.throws(
      () => decryptSecret(key, 'postgres_password', v, 'secrets.enc.json'),
      (e: unknown) => e instanceof SecretTamperedError && /postgres_password/.test(e.message),
    );
  }
});

void test('an entry moved to another name fails authentication (the name is bound in)', () => {
  const key = newKey();
  const entry = encryptSecret(key, 'repmgr_password', 'value-of-repmgr');
  assert.throws(() => decryptSecret(key, 'postgres_password', entry, 'f'), SecretTamperedError);
});

void test('a truncated tag is refused rather than checked with fewer bits', () => {
  const key = newKey();
  const entry = encryptSecret(key, 'p', 'value-value');
  const short = { ...entry, tag: Buffer.from(entry.tag, 'base64').subarray(0, 4).toString('base64') };
  assert.throws(() => decryptSecret(key, 'p', short, 'f'), SecretTamperedError);
});

void test('a different key is reported as a key mismatch naming both key ids', () => {
  const right = newKey();
  const wrong = newKey();
  const entry = encryptSecret(right, 'p', 'value-value');
  assert.throws(
    () => decryptSecret(wrong, 'p', entry, 'f'),
    (e: unknown) =>
      e instanceof SecretKeyMismatchError &&
      e.message.includes(right.id) &&
      e.message.includes(wrong.id) &&
      e.exitCode === 1 &&
      e.hint !== undefined,
  );
});

void test('a different key with a forged key id still cannot decrypt', () => {
  const right = newKey();
  const wrong = newKey();
  const entry = { ...encryptSecret(right, 'p', 'value-value'), kid: wrong.id };
  assert.throws(() => decryptSecret(wrong, 'p', entry, 'f'), SecretTamperedError);
});
