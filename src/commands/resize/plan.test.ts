import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../core/errors.ts';
import { parseConfig } from '../../model/parse.ts';
import type { StatusReport, StatusRow } from '../status/index.ts';
import { planResize } from './plan.ts';

const { config } = parseConfig(`name: g
defaults: { instance_type: small, volume_gb: 20 }
clusters:
  - name: main
    nodes:
      - { name: main-1, role: primary }
      - { name: main-2, role: replica, instance_type: medium }
services:
  - { name: backup-1, role: barman, volume_gb: 50 }
`);
const row = (node: string, extra: Partial<StatusRow> = {}): StatusRow => ({
  cluster: 'main',
  node,
  address: '10.0.0.1',
  configuredRole: 'replica',
  role: 'replica',
  state: 'running',
  ...extra,
});
const status = (extra: Partial<StatusRow> = {}): StatusReport => ({
  group: 'g',
  primaries: { main: 'main-1' },
  nodes: [row('main-1', { role: 'primary', configuredRole: 'primary' }), row('main-2', extra)],
});
const usage = (re: RegExp) => (e: unknown) =>
  e instanceof UsageError && e.exitCode === 2 && re.test(e.message);

void test('a node from its effective size (defaults, its own), a service too; the same size is already recorded', () => {
  const p = planResize(config!, status(), { node: 'main-1', instanceType: 'large' });
  assert.deepEqual(
    [p.cluster, p.role, p.from, p.to, p.recorded],
    [
      'main',
      'primary',
      { instanceType: 'small', volumeGb: 20 },
      { instanceType: 'large', volumeGb: 20 },
      false,
    ],
  );
  const b = planResize(config!, status(), { node: 'backup-1', volumeGb: 80 });
  assert.deepEqual([b.cluster, b.role, b.from.volumeGb, b.to.volumeGb], [undefined, 'barman', 50, 80]);
  assert.equal(planResize(config!, status(), { node: 'main-2', instanceType: 'medium' }).recorded, true);
});

void test('refused: nothing asked, an unknown machine, a smaller volume, a node that is down', () => {
  assert.throws(() => planResize(config!, status(), { node: 'main-2' }), usage(/say what to change/));
  assert.throws(
    () => planResize(config!, status(), { node: 'main-9', instanceType: 'large' }),
    usage(/no node or service main-9/),
  );
  assert.throws(
    () => planResize(config!, status(), { node: 'backup-1', volumeGb: 10 }),
    usage(/backup-1's volume is 50 GB: a volume only grows \(asked 10 GB\)/),
  );
  assert.throws(
    () => planResize(config!, status({ state: 'stopped' }), { node: 'main-2', instanceType: 'large' }),
    usage(/main-2 is stopped: resize restarts it safely only while it runs/),
  );
});
