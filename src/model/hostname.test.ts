import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidHostname, isValidLabel, labelProblem, suggestLabel } from './hostname.ts';

void test('RFC 1123 labels, lowercase', () => {
  for (const ok of ['a', 'main-1', '0db', 'x'.repeat(63)]) assert.equal(isValidLabel(ok), true, ok);
  for (const bad of ['', 'Main', '-a', 'a-', 'a_b', 'a.b', 'x'.repeat(64), 'é'])
    assert.equal(isValidLabel(bad), false, bad);
  assert.match(labelProblem('Main'), /uppercase/);
  assert.match(labelProblem('a_b'), /"_"/);
  assert.match(labelProblem('x'.repeat(64)), /64 characters/);
  assert.equal(suggestLabel('My_Cluster!'), 'my-cluster');
});

void test('host names are dotted labels', () => {
  assert.equal(isValidHostname('db1.example.org'), true);
  assert.equal(isValidHostname('DB1.Example.org'), true);
  assert.equal(isValidHostname('db_1.example'), false);
  assert.equal(isValidHostname(''), false);
});
