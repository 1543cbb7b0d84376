import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseObservation } from '../../../checks/observe.ts';
import { framed, REPMGR_TABLE } from '../../../../test/support/checks-fixtures.ts';
import { parseRepmgrTable, readRepmgrSections } from './observation.ts';

void test('repmgr exiting non-zero (a node down) still yields its table', () => {
  const table = REPMGR_TABLE.replace('|   running | main-2', '| - failed  | main-2');
  const o = parseObservation(
    'main-1',
    framed([
      [
        'repmgr-table',
        `${table}\n\nWARNING: following issues were detected\n  - unable to connect to node "main-3" (ID: 3)`,
        25,
      ],
    ]),
  );
  assert.equal(o.repmgr?.ok, true);
  assert.equal(o.repmgr?.table[2]?.status, '- failed');
});

void test('repmgr failing outright is an error', () => {
  const o = parseObservation(
    'main-1',
    framed([['repmgr-table', 'ERROR: unable to connect to database\nDETAIL: ...', 1]]),
  );
  assert.equal(o.repmgr?.ok, false);
  assert.equal(o.repmgr?.error, 'unable to connect to database');
});

void test('the repmgr table parser ignores anything else', () => {
  assert.deepEqual(parseRepmgrTable('no table here'), []);
});

void test('a node whose observation did not ask for repmgr (status) has no repmgr key', () => {
  assert.deepEqual(readRepmgrSections({}), {});
  assert.equal(parseObservation('main-1', framed([['services', 'repmgrd active', 0]])).repmgr, undefined);
});
