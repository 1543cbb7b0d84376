import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSshKeyPair } from './generate.ts';
import { redactor, REDACTED } from './redact.ts';

void test('every occurrence of every secret is masked', () => {
  const redact = redactor(['hunter2hunter2', 'Zq9xLmP0aa']);
  assert.equal(
    redact('a hunter2hunter2 b hunter2hunter2\nc=Zq9xLmP0aa;'),
    `a ${REDACTED} b ${REDACTED}\nc=${REDACTED};`,
  );
});

void test('text without secrets is returned unchanged', () => {
  const redact = redactor(['hunter2hunter2']);
  assert.equal(redact('nothing to hide here'), 'nothing to hide here');
  assert.equal(redactor([])('abc'), 'abc');
});

void test('empty and very short strings are ignored, so ordinary text survives', () => {
  const redact = redactor(['', 'a', 'on', 'yes', '12345']);
  const text = 'yes, a connection on port 12345';
  assert.equal(redact(text), text);
});

void test('a secret containing another is masked whole', () => {
  const redact = redactor(['abcdef', 'xxabcdefyy']);
  assert.equal(redact('[xxabcdefyy] [abcdef]'), `[${REDACTED}] [${REDACTED}]`);
});

void test('characters special to regular expressions are taken literally', () => {
  const redact = redactor(['p.a$s*w(o)r+d?']);
  assert.equal(redact('pXaXsXwXoXrXd p.a$s*w(o)r+d?'), `pXaXsXwXoXrXd ${REDACTED}`);
});

void test('a private key is masked whole and line by line', () => {
  const { privateKey } = generateSshKeyPair('t@x');
  const redact = redactor([privateKey]);
  assert.equal(redact(`key:\n${privateKey}end`), `key:\n${REDACTED}end`);
  const body = privateKey.split('\n').filter((l) => l && !l.startsWith('-----'));
  // output that arrives one line at a time
  for (const line of body) assert.equal(redact(`> ${line}`), `> ${REDACTED}`);
  // the armour lines are no secret and stay readable
  assert.equal(redact('-----BEGIN OPENSSH PRIVATE KEY-----'), '-----BEGIN OPENSSH PRIVATE KEY-----');
});
