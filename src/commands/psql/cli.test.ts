import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitPsqlArgs } from './cli.ts';

void test('a node is only a node when it comes before --', () => {
  // tpa psql acme -- -c 'select 1'    (commander fills [node] with -c)
  assert.deepEqual(splitPsqlArgs(['psql', 'acme', '--', '-c', 'select 1'], '-c', ['select 1']), {
    node: undefined,
    args: ['-c', 'select 1'],
  });
  // tpa psql acme main-2 -- -c 'select 1'
  assert.deepEqual(splitPsqlArgs(['psql', 'acme', 'main-2', '--', '-c', 'x'], 'main-2', ['-c', 'x']), {
    node: 'main-2',
    args: ['-c', 'x'],
  });
  // tpa psql acme main-2
  assert.deepEqual(splitPsqlArgs(['psql', 'acme', 'main-2'], 'main-2', []), { node: 'main-2', args: [] });
  // tpa psql acme
  assert.deepEqual(splitPsqlArgs(['psql', 'acme'], undefined, []), { node: undefined, args: [] });
});
