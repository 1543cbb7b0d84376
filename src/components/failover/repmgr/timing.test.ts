import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_FAILOVER_TIMEOUT_S,
  failoverTiming,
  FENCE_WITHIN_S,
  MIN_FAILOVER_TIMEOUT_S,
} from './timing.ts';

void test('the default: promotion 9-10 s after the primary drops off the network, fencing within 6 s', () => {
  const t = failoverTiming();
  assert.equal(DEFAULT_FAILOVER_TIMEOUT_S, 9);
  assert.deepEqual(t, {
    monitorIntervalSecs: 1,
    reconnectAttempts: 2,
    reconnectInterval: 3,
    promoteAfterMin: 9,
    promoteAfterMax: 10,
    fenceWithin: 6,
  });
});

void test('every allowed timeout fences strictly before the earliest promotion', () => {
  for (let s = MIN_FAILOVER_TIMEOUT_S; s <= 600; s++) {
    const t = failoverTiming(s);
    assert.equal(t.promoteAfterMin, s, `timeout ${s}`);
    assert.ok(t.fenceWithin < t.promoteAfterMin, `timeout ${s}: fence ${t.fenceWithin}`);
    // longer than repmgr's consensus window (2 monitor intervals): a killed postgres fails over
    assert.ok(
      t.reconnectInterval > 2 * t.monitorIntervalSecs,
      `timeout ${s}: interval ${t.reconnectInterval}`,
    );
  }
  assert.ok(FENCE_WITHIN_S < MIN_FAILOVER_TIMEOUT_S);
  assert.throws(() => failoverTiming(MIN_FAILOVER_TIMEOUT_S - 1), /at least 9 seconds/);
  assert.throws(() => failoverTiming(9.5), /at least/);
});
