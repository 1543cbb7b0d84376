import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHECKS, evaluate } from '../../../checks/evaluate.ts';
import { failed, find, healthyEvidence } from '../../../../test/support/checks-fixtures.ts';
import { failoverManagerOf } from '../registry.ts';

void test("repmgr's checks are its manager's, and tpa test lists them after the pooler's", () => {
  const ids = failoverManagerOf({ failover_manager: 'repmgr' }).checks.map((c) => c.id);
  assert.deepEqual(ids, ['repmgrd-running', 'repmgr-cluster-show']);
  const all = CHECKS.map((c) => c.id);
  assert.equal(all.indexOf('repmgrd-running'), all.indexOf('pgbouncer-write') + 1);
  assert.equal(CHECKS.find((c) => c.id === 'repmgr-cluster-show')?.title, 'repmgr cluster show agrees');
});

void test('repmgr cluster show disagreeing with the cluster fails, with what differs', () => {
  const ev = healthyEvidence();
  const table = ev.observations['main-1']!.repmgr!.table;
  table[2]!.upstream = 'main-1';
  table[1]!.status = '! running';
  const r = find(evaluate(ev), 'repmgr-cluster-show', 'main-1');
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /main-3 upstream main-1, expected main-2/);
  assert.match(r.detail, /main-2 ! running/);

  const ev2 = healthyEvidence();
  ev2.observations['main-2']!.repmgr!.table.pop();
  assert.match(find(evaluate(ev2), 'repmgr-cluster-show', 'main-2').detail, /main-3 not registered/);

  const ev3 = healthyEvidence();
  ev3.observations['main-3']!.repmgr!.table[0]!.status = '? unreachable';
  assert.match(find(evaluate(ev3), 'repmgr-cluster-show', 'main-3').detail, /main-1 \? unreachable/);
  const ev4 = healthyEvidence();
  ev4.observations['main-2']!.repmgr!.table[1]!.status = '! running as primary';
  assert.match(find(evaluate(ev4), 'repmgr-cluster-show', 'main-2').detail, /main-2 ! running as primary/);
});

void test('repmgrd stopped fails repmgrd-running', () => {
  const ev = healthyEvidence();
  ev.observations['main-2']!.services.repmgrd = 'inactive';
  const results = evaluate(ev);
  assert.deepEqual(failed(results), ['repmgrd-running@main-2']);
  assert.equal(find(results, 'repmgrd-running', 'main-2').detail, 'repmgrd is inactive');
});
