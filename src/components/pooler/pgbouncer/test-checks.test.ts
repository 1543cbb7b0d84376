import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate } from '../../../checks/evaluate.ts';
import { ADDR, find, healthyEvidence } from '../../../../test/support/checks-fixtures.ts';

void test('pgbouncer sending clients to a replica fails pgbouncer-write on that node', () => {
  const ev = healthyEvidence();
  const o = ev.observations['main-2']!;
  o.pgbouncer = { route: `host=${ADDR['main-3']} port=5432`, routeHost: ADDR['main-3']! };
  o.client!.write = { ok: false, output: 'ERROR:  cannot execute CREATE SCHEMA in a read-only transaction' };
  const r = find(evaluate(ev), 'pgbouncer-write', 'main-2');
  assert.equal(r.status, 'fail');
  assert.equal(r.detail, 'cannot execute CREATE SCHEMA in a read-only transaction (its route: main-3)');
});

void test('a write that lands on a server not in recovery but not the primary fails too', () => {
  const ev = healthyEvidence();
  ev.observations['main-1']!.client!.write!.server = ADDR['main-2']!;
  assert.match(
    find(evaluate(ev), 'pgbouncer-write', 'main-1').detail,
    /landed on main-2, but the primary is main-1/,
  );
});
