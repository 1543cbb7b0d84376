import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  parseScramVerifier,
  scramPasswordBytes,
  scramVerifier,
  scramVerifierMatches,
  stableScramVerifier,
} from './scram.ts';

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

void test('RFC 7677 example: the verifier proves the exchange of section 3', () => {
  const v = parseScramVerifier(scramVerifier('pencil', 'W22ZaJ0SNY7soEsUEjb6gQ==', 4096));
  assert.ok(v);
  const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const authMessage =
    `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,` + `c=biws,r=${nonce}`;
  // the server signature the RFC shows in its final message
  assert.equal(
    hmac(v.serverKey, authMessage).toString('base64'),
    '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  );
  // the client proof the RFC shows must verify against our StoredKey, as a server checks it
  const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
  const signature = hmac(v.storedKey, authMessage);
  const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
  assert.deepEqual(createHash('sha256').update(clientKey).digest(), v.storedKey);
});

void test('format: SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey with a 16-byte random salt', () => {
  const a = scramVerifier('secret');
  const b = scramVerifier('secret');
  assert.match(a, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(a, b, 'a fresh salt each time');
  assert.equal(parseScramVerifier(a)?.salt.length, 16);
  assert.equal(parseScramVerifier(scramVerifier('x', undefined, 10000))?.iterations, 10000);
});

void test('scramVerifierMatches accepts the right password and refuses others', () => {
  const v = scramVerifier('correct horse');
  assert.equal(scramVerifierMatches(v, 'correct horse'), true);
  assert.equal(scramVerifierMatches(v, 'correct horsE'), false);
  assert.equal(scramVerifierMatches('md5abcdef', 'correct horse'), false);
  assert.equal(scramVerifierMatches(null, 'correct horse'), false);
});

void test('stableScramVerifier keeps a matching verifier and replaces a stale one', () => {
  const v = scramVerifier('pw1');
  assert.equal(stableScramVerifier(v, 'pw1'), v);
  const replaced = stableScramVerifier(v, 'pw2');
  assert.notEqual(replaced, v);
  assert.equal(scramVerifierMatches(replaced, 'pw2'), true);
  assert.equal(scramVerifierMatches(stableScramVerifier(undefined, 'pw3'), 'pw3'), true);
});

void test('SASLprep: ASCII as is, NFKC and space mapping for others, raw bytes when prohibited', () => {
  assert.equal(scramPasswordBytes('abc DEF 123').toString(), 'abc DEF 123');
  assert.equal(scramPasswordBytes('\uFB01x').toString(), 'fix'); // ligature fi -> f i
  assert.equal(scramPasswordBytes('a\u00A0b').toString(), 'a b');
  assert.equal(scramPasswordBytes('a\u00ADb').toString(), 'ab');
  assert.deepEqual(scramPasswordBytes('\uE000\u00E9'), Buffer.from('\uE000\u00E9'));
});

void test('bad input is refused', () => {
  assert.throws(() => scramVerifier('x', Buffer.alloc(0)), RangeError);
  assert.throws(() => scramVerifier('x', undefined, 0), RangeError);
  assert.equal(parseScramVerifier('SCRAM-SHA-256$4096:abc$short:short'), undefined);
});
