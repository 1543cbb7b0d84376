import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OperationError, UsageError } from '../../core/errors.ts';
import { statusReport, statusRow, threeNodeConfig } from '../../../test/support/fixtures.ts';
import { nextNodeName, planAddReplica } from './plan.ts';

const row = statusRow;
const status = statusReport;
const twoClusters = () =>
  threeNodeConfig({
    clusters: [
      ...threeNodeConfig().clusters,
      { name: 'reports', nodes: [{ name: 'reports-1', role: 'primary' }] },
    ] as never,
  });

void test('the next free name, a cascade from a streaming replica, the instance type', () => {
  const config = threeNodeConfig();
  assert.equal(nextNodeName(config, 'main'), 'main-4');
  assert.deepEqual(planAddReplica(config, status(), {}), {
    cluster: 'main',
    node: { name: 'main-4', role: 'replica' },
  });
  assert.deepEqual(
    planAddReplica(config, status(), { name: 'x-1', upstream: 'main-2', instanceType: 'medium' }),
    {
      cluster: 'main',
      node: { name: 'x-1', role: 'replica', upstream: 'main-2', instance_type: 'medium' },
    },
  );
  // the primary as upstream is the default: not written
  assert.deepEqual(planAddReplica(config, status(), { upstream: 'main-1' }).node, {
    name: 'main-4',
    role: 'replica',
  });
});

void test('refused before anything changes: unknown or ambiguous cluster, a used name, a foreign or lagging upstream, a node down', () => {
  const refused = (
    f: () => unknown,
    re: RegExp,
    kind: typeof UsageError | typeof OperationError = UsageError,
  ) =>
    assert.throws(
      f,
      (e: unknown) => e instanceof kind && re.test(`${(e as Error).message} ${(e as UsageError).hint ?? ''}`),
    );
  const config = threeNodeConfig();
  refused(
    () => planAddReplica(config, status(), { cluster: 'nope' }),
    /no cluster nope.*the clusters are: main/,
  );
  refused(
    () => planAddReplica(twoClusters(), status(), {}),
    /2 clusters: say which one.*--cluster main \| reports/,
  );
  refused(
    () => planAddReplica(config, status(), { name: 'main-2' }),
    /main-2 is already a host of this group/,
  );
  refused(
    () => planAddReplica(twoClusters(), status(), { cluster: 'main', upstream: 'reports-1' }),
    /reports-1 is a node of cluster reports/,
  );
  refused(() => planAddReplica(config, status(), { upstream: 'ghost' }), /no node ghost in cluster main/);
  refused(
    () =>
      planAddReplica(config, status([row('main-1'), row('main-2', { receiver: 'catchup' }), row('main-3')]), {
        upstream: 'main-2',
      }),
    /main-2 does not stream/,
  );
  refused(
    () =>
      planAddReplica(config, status([row('main-1'), row('main-2', { state: 'stopped' }), row('main-3')]), {}),
    /main-2 is stopped: adding a replica needs every node/,
    OperationError,
  );
});
