import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config } from '../testdata/fixtures.ts';
import { checkRules, RULES } from './index.ts';

void test('the fixture config passes every rule without a warning', () => {
  assert.deepEqual(checkRules(config()), []);
});

void test('rules are pure: same input, same output, input untouched', () => {
  const c = config((x) => {
    x.name = 'Bad_Name';
    x.clusters[0]!.nodes[1]!.upstream = 'nowhere';
  });
  const before = structuredClone(c);
  const first = checkRules(c);
  assert.deepEqual(checkRules(c), first);
  assert.deepEqual(c, before);
  assert.ok(first.length >= 2);
  assert.equal(new Set(RULES).size, RULES.length);
});
