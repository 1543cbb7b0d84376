import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationError, UsageError } from '../../core/errors.ts';
import { statusReport, statusRow, threeNodeConfig } from '../../../test/support/fixtures.ts';
import { planRemoveNode } from './plan.ts';

// threeNodeConfig: main-1 primary, main-2 replica, main-3 cascading from main-2
const row = statusRow;
const status = statusReport;

void test('a leaf goes alone; a node others cascade from hands them to its own upstream first', () => {
  assert.deepEqual(planRemoveNode(threeNodeConfig(), status(), 'main-3'), {
    cluster: 'main',
    node: 'main-3',
    reachable: true,
    upstream: 'main-2',
    children: [],
    // nobody streams from it; were there, they would follow its own upstream
    newUpstream: 'main-2',
    followTarget: 'main-2',
  });
  const p = planRemoveNode(threeNodeConfig(), status(), 'main-2');
  assert.deepEqual(p.children, ['main-3']);
  assert.equal(p.followTarget, 'main-1');
  assert.equal(p.newUpstream, undefined, 'main-3 streams from the primary afterwards');
  // a dead machine is removed all the same
  assert.equal(
    planRemoveNode(
      threeNodeConfig(),
      status([row('main-1'), row('main-2'), row('main-3', { state: 'unreachable' })]),
      'main-3',
    ).reachable,
    false,
  );
});

void test('refused before anything changes: unknown, the primary, a sync cluster left without a standby, a child that cannot follow', () => {
  const refused = (
    f: () => unknown,
    re: RegExp,
    kind: typeof UsageError | typeof OperationError = UsageError,
  ) =>
    assert.throws(
      f,
      (e: unknown) => e instanceof kind && re.test(`${(e as Error).message} ${(e as UsageError).hint ?? ''}`),
    );
  refused(
    () => planRemoveNode(threeNodeConfig(), status(), 'ghost'),
    /no node ghost.*main-1, main-2, main-3/,
  );
  refused(
    () => planRemoveNode(threeNodeConfig(), status(), 'main-1'),
    /main-1 is the primary.*tpa switchover/,
  );
  // after a failover: the running primary counts, not config.yml's
  refused(
    () => planRemoveNode(threeNodeConfig(), { ...status(), primaries: { main: 'main-2' } }, 'main-2'),
    /main-2 is the primary/,
  );
  const sync = threeNodeConfig({
    clusters: [
      {
        name: 'main',
        durability: 'sync',
        nodes: [
          { name: 'main-1', role: 'primary' },
          { name: 'main-2', role: 'replica' },
        ],
      },
    ] as never,
  });
  refused(
    () => planRemoveNode(sync, status([row('main-1'), row('main-2')]), 'main-2'),
    /durability: sync\) without a standby/,
  );
  // main-1 <- main-2 <- main-3: main-3 follows main-1, which keeps one standby; without a
  // cascade the last direct standby may not go while the primary fences below one
  assert.equal(planRemoveNode(threeNodeConfig(), status(), 'main-2', () => 1).children.length, 1);
  const pair = threeNodeConfig({
    clusters: [
      {
        name: 'main',
        nodes: [
          { name: 'main-1', role: 'primary' },
          { name: 'main-2', role: 'replica' },
        ],
      },
    ] as never,
  });
  refused(
    () => planRemoveNode(pair, status([row('main-1'), row('main-2')]), 'main-2', () => 1),
    /leave main-1 with 0 standbys streaming from it, fewer than the 1 it needs not to fence itself/,
  );
  assert.equal(
    planRemoveNode(pair, status([row('main-1'), row('main-2')]), 'main-2', () => 0).node,
    'main-2',
  );
  refused(
    () =>
      planRemoveNode(
        threeNodeConfig(),
        status([row('main-1'), row('main-2'), row('main-3', { state: 'stopped' })]),
        'main-2',
      ),
    /main-3 \(stopped\) streams from main-2/,
    OperationError,
  );
});
