import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationError, UsageError } from '../../../core/errors.ts';
import { CHECKS } from '../../../checks/evaluate.ts';
import { config } from '../../../model/testdata/fixtures.ts';
import type { Inventory } from '../../../platforms/platform.ts';
import { testHost, testInventory } from '../../../../test/support/fixtures.ts';
import { drillTargets, RESTORE_DRILL } from './index.ts';
import { Interrupted, step } from './steps.ts';

const inventory: Inventory = testInventory([
  testHost({ name: 'backup-1', address: '10.0.0.9', role: 'barman' }),
]);
const group = config((c) => {
  c.clusters.push({ name: 'reports', nodes: [{ name: 'reports-1', role: 'primary' }] });
  c.clusters.push({
    name: 'reports-drill-3fa2',
    failover_manager: 'none',
    pooler: 'none',
    backups: false,
    nodes: [{ name: 'reports-drill-3fa2-1', role: 'primary' }],
  });
});

void test('drillTargets: every backed-up cluster, or those named; unknown names are bad input', () => {
  assert.deepEqual(drillTargets({ config: group, inventory }), ['main', 'reports']);
  assert.deepEqual(drillTargets({ config: group, inventory }, ['reports', 'reports']), ['reports']);
  assert.throws(() => drillTargets({ config: group, inventory }, ['nope']), UsageError);
  assert.throws(
    () => drillTargets({ config: group, inventory }, ['reports-drill-3fa2']),
    (e: unknown) => e instanceof OperationError && /not backed up/.test(e.message),
  );
  const off = config((c) => {
    c.backup = { mode: 'none' };
  });
  assert.throws(
    () => drillTargets({ config: off, inventory }),
    (e: unknown) => e instanceof OperationError && /backups are off/.test(e.message),
  );
  assert.ok(CHECKS.some((c) => c.id === RESTORE_DRILL));
});

void test('step: the result when not interrupted; on Ctrl-C it gives up at once on the running step', async () => {
  const ac = new AbortController();
  assert.equal(await step(ac.signal, Promise.resolve(7)), 7);
  await assert.rejects(step(ac.signal, Promise.reject(new Error('boom'))), /boom/);
  let late: (v: number) => void = () => {};
  const slow = new Promise<number>((r) => (late = r));
  const started = Date.now();
  const pending = step(ac.signal, slow);
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(pending, Interrupted);
  assert.ok(Date.now() - started < 1000);
  late(1);
  // already interrupted: the next step does not wait either; a late failure is not unhandled
  await assert.rejects(step(ac.signal, Promise.reject(new Error('late'))), Interrupted);
});
