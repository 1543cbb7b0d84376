import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, HostFacts } from '../plan/types.ts';
import { fileBefore, filesOfUnit } from './rollback.ts';

const facts = (files: HostFacts['files']) => ({ files }) as HostFacts;
const change = (
  path: string,
  extra: Partial<Extract<Change['resource'], { kind: 'file' }>>,
  notify?: Change['notify'],
): Change => ({
  host: 'h',
  phase: 'common',
  summary: `update ${path}`,
  resource: { kind: 'file', path, content: 'new', mode: 0o644, owner: 'root', group: 'root', ...extra },
  ...(notify ? { notify } : {}),
});

void test('a changed file is remembered as it was, for the units it notified or configures', () => {
  const was = { sha256: 'x', mode: 0o640, owner: 'postgres', group: 'postgres', content: 'old' };
  const conf = fileBefore(change('/etc/a.conf', { configures: 'pg' }), facts({ '/etc/a.conf': was }))!;
  assert.deepEqual(conf, {
    path: '/etc/a.conf',
    units: ['pg'],
    content: 'old',
    mode: 0o640,
    owner: 'postgres',
    group: 'postgres',
  });
  const hba = fileBefore(change('/etc/hba', {}, ['reload:pg']), facts({}))!;
  assert.equal(hba.content, null, 'it did not exist: removed on rollback');
  assert.deepEqual(hba.units, ['pg']);
  const secret = fileBefore(
    change('/etc/key', { secret: true }, ['restart:pg']),
    facts({ '/etc/key': { ...was, content: undefined } }),
  )!;
  assert.equal(secret.content, undefined, 'a secret is never read back: not restorable');
  // the oldest state of a file changed twice, and only the unit's files
  const again = { ...conf, content: 'newer' };
  const other = { ...conf, path: '/etc/b', units: ['app'] };
  assert.deepEqual(filesOfUnit([conf, again, other], 'pg'), [conf]);
});
