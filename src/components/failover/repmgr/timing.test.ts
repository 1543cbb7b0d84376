import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_FAILOVER_TIMEOUT_S,
  failoverTiming,
  FENCE_WITHIN_S,
  MIN_FAILOVER_TIMEOUT_S,
} from './timing.ts';

void test('the default: promotion 7-8 s after the primary drops off the network, fencing within 6 s', () => {
  const t = failoverTiming();
  assert.equal(DEFAULT_FAILOVER_TIMEOUT_S, 7);
  assert.deepEqual(t, {
    monitorIntervalSecs: 1,
    reconnectAttempts: 2,
    reconnectInterval: 1,
    promoteAfterMin: 7,
    promoteAfterMax: 8,
    fenceWithin: 6,
  });
});

void test('every allowed timeout fences strictly before the earliest promotion', () => {
  for (let s = MIN_FAILOVER_TIMEOUT_S; s <= 600; s++) {
    const t = failoverTiming(s);
    assert.equal(t.promoteAfterMin, s, `timeout ${s}`);
    assert.ok(t.fenceWithin < t.promoteAfterMin, `timeout ${s}: fence ${t.fenceWithin}`);
    assert.ok(t.reconnectInterval >= 1);
  }
  assert.equal(FENCE_WITHIN_S + 1, MIN_FAILOVER_TIMEOUT_S);
  assert.throws(() => failoverTiming(MIN_FAILOVER_TIMEOUT_S - 1), /at least 7 seconds/);
  assert.throws(() => failoverTiming(9.5), /at least/);
});
