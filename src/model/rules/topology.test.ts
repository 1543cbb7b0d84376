import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config, otherCluster } from '../testdata/fixtures.ts';
import { found } from '../testdata/check.ts';
import { onePrimaryPerCluster, upstreamsResolve } from './topology.ts';

void test('onePrimaryPerCluster: none, two, a primary with an upstream', () => {
  assert.deepEqual(found(onePrimaryPerCluster, config()), []);
  const none = config((c) => {
    c.clusters[0]!.nodes[0]!.role = 'replica';
  });
  assert.deepEqual(found(onePrimaryPerCluster, none), [
    'error clusters.0.nodes: cluster "main" has no primary',
  ]);
  const two = config((c) => {
    c.clusters[0]!.nodes[2] = { name: 'main-3', role: 'primary' };
  });
  assert.deepEqual(found(onePrimaryPerCluster, two), [
    'error clusters.0.nodes.2.role: cluster "main" already has a primary (main-1); a cluster has exactly one',
  ]);
  const withUpstream = config((c) => {
    c.clusters[0]!.nodes[0]!.upstream = 'main-2';
  });
  assert.deepEqual(found(onePrimaryPerCluster, withUpstream), [
    'error clusters.0.nodes.0.upstream: a primary has no upstream',
  ]);
});

void test('upstreamsResolve: unknown, other cluster, self', () => {
  assert.deepEqual(found(upstreamsResolve, config()), []);
  const unknown = config((c) => {
    c.clusters[0]!.nodes[1]!.upstream = 'main-9';
  });
  assert.deepEqual(found(upstreamsResolve, unknown), [
    'error clusters.0.nodes.1.upstream: upstream "main-9" is not a node of cluster "main"',
  ]);
  const other = config((c) => {
    c.clusters.push(otherCluster());
    c.clusters[0]!.nodes[1]!.upstream = 'other-1';
  });
  assert.deepEqual(found(upstreamsResolve, other), [
    'error clusters.0.nodes.1.upstream: upstream "other-1" is in cluster "other", not "main"',
  ]);
  const self = config((c) => {
    c.clusters[0]!.nodes[1]!.upstream = 'main-2';
  });
  assert.deepEqual(found(upstreamsResolve, self), [
    'error clusters.0.nodes.1.upstream: node "main-2" cannot be its own upstream',
  ]);
});

void test('upstreamsResolve: a cycle is reported once, at its first node', () => {
  const cycle = config((c) => {
    c.clusters[0]!.nodes.push({ name: 'main-4', role: 'replica', upstream: 'main-3' });
    c.clusters[0]!.nodes[1]!.upstream = 'main-4'; // main-2 -> main-4 -> main-3 -> main-2
  });
  assert.deepEqual(found(upstreamsResolve, cycle), [
    'error clusters.0.nodes.1.upstream: upstreams form a cycle: main-2 -> main-4 -> main-3 -> main-2',
  ]);
  const two = config((c) => {
    c.clusters[0]!.nodes[1]!.upstream = 'main-3'; // main-2 <-> main-3
  });
  assert.equal(found(upstreamsResolve, two).length, 1);
  // a chain that ends at the primary is fine, however long
  const chain = config((c) => {
    c.clusters[0]!.nodes.push({ name: 'main-4', role: 'replica', upstream: 'main-3' });
    c.clusters[0]!.nodes.push({ name: 'main-5', role: 'replica', upstream: 'main-4' });
  });
  assert.deepEqual(found(upstreamsResolve, chain), []);
});
