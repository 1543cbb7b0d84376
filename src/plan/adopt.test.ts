import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredHost, HostFacts } from './types.ts';
import { adoptableFailovers } from './adopt.ts';

const d = (host: string, role: 'primary' | 'replica'): DesiredHost => ({
  host,
  role,
  cluster: 'main',
  phases: [],
});
const desired = [d('main-1', 'primary'), d('main-2', 'replica'), d('main-3', 'replica')];
const pg = (inRecovery: boolean, systemIdentifier = '7300') =>
  ({ reachable: true, probes: {}, postgres: { inRecovery, systemIdentifier } }) as unknown as HostFacts;
const down = { reachable: true, probes: {} } as unknown as HostFacts;
const gone = { reachable: false, probes: {} } as unknown as HostFacts;

void test('the configured primary fenced, down or a standby now, one promoted node: adopted', () => {
  for (const old of [down, gone, pg(true)]) {
    assert.deepEqual(
      adoptableFailovers(desired, { 'main-1': old, 'main-2': pg(false), 'main-3': pg(true) }),
      [{ cluster: 'main', from: 'main-1', to: 'main-2', fromIsStandby: old !== down && old !== gone }],
    );
  }
});

void test('nothing to adopt: the primary runs as configured, none or two primaries, another system', () => {
  assert.deepEqual(
    adoptableFailovers(desired, { 'main-1': pg(false), 'main-2': pg(true), 'main-3': pg(true) }),
    [],
  );
  assert.deepEqual(
    adoptableFailovers(desired, { 'main-1': down, 'main-2': pg(true), 'main-3': pg(true) }),
    [],
  );
  assert.deepEqual(
    adoptableFailovers(desired, { 'main-1': down, 'main-2': pg(false), 'main-3': pg(false) }),
    [],
  );
  assert.deepEqual(
    adoptableFailovers(desired, { 'main-1': down, 'main-2': pg(false, '9999'), 'main-3': pg(true) }),
    [],
  );
});
