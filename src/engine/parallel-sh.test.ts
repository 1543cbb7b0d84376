import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { parallelSnippets } from './parallel-sh.ts';

const run = (lines: string[]) =>
  execFileSync('sh', ['-s'], { input: ['{', ...lines, '}'].join('\n') + '\n' }).toString();

void test('snippets run side by side and print in their own order', () => {
  // the first snippet waits for a file only the second one makes: run one after the other,
  // it would give up after 5 s and say so
  const out = run(
    parallelSnippets([
      'i=0; until [ -e "$T/go" ]; do sleep 0.05; i=$((i+1)); [ "$i" -lt 100 ] || { echo sequential; break; }; done; echo a',
      'touch "$T/go"; echo b; echo b2',
      'echo c',
    ]),
  );
  assert.equal(out, 'a\nb\nb2\nc\n');
});

void test('quotes and multi-line snippets survive; no snippets, no shell', () => {
  const out = run(parallelSnippets([`printf '%s\\n' "it's"`, 'for i in 1 2; do\n  echo "$i"\ndone']));
  assert.equal(out, "it's\n1\n2\n");
  assert.deepEqual(parallelSnippets([]), []);
});

void test('the temporary directory is removed', () => {
  const out = run([...parallelSnippets(['echo x']), 'echo "$T"; [ -e "$T" ] && echo left || echo gone']);
  assert.match(out, /\ngone\n$/);
});
