import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cloneUpstreamName,
  currentPrimaryName,
  parsePrimaryState,
  repmgrNodeId,
  repmgrPriority,
  upstreamDepth,
} from './topology.ts';
import { emptyFacts, sampleConfig, serverFacts } from '../../test/support/repmgr-fixtures.ts';

const cluster = sampleConfig().clusters[0]!;

void test('node ids follow the position in config.yml, priorities fall with it', () => {
  assert.deepEqual(
    cluster.nodes.map((n) => repmgrNodeId(cluster, n.name)),
    [1, 2, 3],
  );
  assert.deepEqual(
    cluster.nodes.map((n) => repmgrPriority(cluster, n.name)),
    [100, 99, 98],
  );
  assert.equal(repmgrPriority(cluster, 'main-3', { 'main-3': 0 }), 0);
  assert.throws(() => repmgrNodeId(cluster, 'nope'), /not in cluster main/);
});

void test('cascading depth comes from the configured upstreams', () => {
  assert.deepEqual(
    cluster.nodes.map((n) => upstreamDepth(cluster, n.name)),
    [0, 1, 2],
  );
});

void test('the primary state probe is parsed, timeline from the WAL file name', () => {
  const s = parsePrimaryState(serverFacts('main-1', 'primary', 0x1a));
  assert.deepEqual(s, { running: true, inRecovery: false, timeline: 26, systemId: '7300000000000000001' });
  assert.equal(parsePrimaryState(serverFacts('main-2', 'standby')).inRecovery, true);
  assert.equal(parsePrimaryState(emptyFacts('x')).running, false);
  assert.equal(parsePrimaryState(undefined).running, false);
});

void test('current primary: config on a first deploy, facts afterwards', () => {
  assert.equal(currentPrimaryName(cluster, {}), 'main-1');
  // after a failover main-2 runs as primary and main-1 is gone
  assert.equal(
    currentPrimaryName(cluster, {
      'main-1': emptyFacts('main-1'),
      'main-2': serverFacts('main-2', 'primary', 2),
      'main-3': serverFacts('main-3', 'standby'),
    }),
    'main-2',
  );
  // the former primary came back unfenced: the newer timeline wins
  assert.equal(
    currentPrimaryName(cluster, {
      'main-1': serverFacts('main-1', 'primary', 1),
      'main-2': serverFacts('main-2', 'primary', 2),
    }),
    'main-2',
  );
  // replicas not cloned yet run Debian's empty clusters (own system ids) on timeline 1
  assert.equal(
    currentPrimaryName(cluster, {
      'main-1': serverFacts('main-1', 'primary', 1),
      'main-2': serverFacts('main-2', 'primary', 1, '7399999999999999992'),
      'main-3': serverFacts('main-3', 'primary', 1, '7399999999999999993'),
    }),
    'main-1',
  );
  // the primary's server is down; a stray empty cluster is no candidate
  assert.equal(
    currentPrimaryName(cluster, {
      'main-1': emptyFacts('main-1'),
      'main-2': serverFacts('main-2', 'standby'),
      'main-3': serverFacts('main-3', 'primary', 3, '7399999999999999993'),
    }),
    'main-1',
  );
});

void test('a replica clones from its configured upstream, else from the current primary', () => {
  const afterFailover = { 'main-2': serverFacts('main-2', 'primary', 2) };
  assert.equal(cloneUpstreamName(cluster, 'main-3', {}), 'main-2');
  assert.equal(cloneUpstreamName(cluster, 'main-2', {}), 'main-1');
  assert.equal(cloneUpstreamName(cluster, 'main-2', afterFailover), 'main-2');
});
