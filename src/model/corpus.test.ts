import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssue } from '../core/errors.ts';
import { parseConfig } from './parse.ts';
import { loadCorpus } from './testdata/corpus.ts';

const corpus = loadCorpus();

void test('the corpus has at least 40 invalid configurations, each marking its errors', () => {
  assert.ok(corpus.length >= 40, `only ${corpus.length} cases`);
  for (const c of corpus) assert.ok(c.expected.length > 0, `${c.name} marks no expected error`);
});

for (const c of corpus) {
  void test(`invalid config ${c.name}: every error reported at its line and field`, () => {
    const { config, errors } = parseConfig(c.text);
    assert.equal(config, undefined);
    const got = errors.map((e) => `${e.line} ${e.path}`).sort();
    const want = c.expected.map((e) => `${e.line} ${e.path}`).sort();
    assert.deepEqual(got, want, errors.map(formatIssue).join('\n'));
    for (const e of c.expected) {
      const issue = errors.find((i) => i.line === e.line && i.path === e.path)!;
      assert.match(`${issue.message} (${issue.hint ?? ''})`, e.message, formatIssue(issue));
      assert.ok((issue.col ?? 0) >= 1);
    }
  });
}
