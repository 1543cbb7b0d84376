import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config, otherCluster } from '../testdata/fixtures.ts';
import { found } from '../testdata/check.ts';
import { uniqueNames, validGroupName, validHostNames } from './names.ts';

void test('validGroupName', () => {
  assert.deepEqual(found(validGroupName, config()), []);
  const bad = config((c) => {
    c.name = 'Acme_Corp';
  });
  assert.deepEqual(found(validGroupName, bad), [
    'error name: group name "Acme_Corp" has uppercase letters; host names here are lowercase',
  ]);
  assert.match(validGroupName(bad)[0]?.hint ?? '', /"acme-corp"/);
});

void test('validHostNames: clusters, nodes and services', () => {
  assert.deepEqual(found(validHostNames, config()), []);
  const bad = config((c) => {
    c.clusters[0]!.name = 'Main';
    c.clusters[0]!.nodes[1]!.name = 'main_2';
    c.services[0]!.name = '-backup';
  });
  assert.deepEqual(found(validHostNames, bad), [
    'error clusters.0.name: cluster name "Main" has uppercase letters; host names here are lowercase',
    'error clusters.0.nodes.1.name: node name "main_2" contains "_" (only a-z, 0-9 and "-" are allowed)',
    'error services.0.name: service name "-backup" starts or ends with "-"',
  ]);
});

void test('uniqueNames: one namespace for clusters, nodes and services across the group', () => {
  assert.deepEqual(found(uniqueNames, config()), []);
  const dup = config((c) => {
    c.clusters.push(otherCluster());
    c.clusters[1]!.nodes[1]!.name = 'main-2';
    c.services[0]!.name = 'other';
  });
  assert.deepEqual(found(uniqueNames, dup), [
    'error clusters.1.nodes.1.name: name "main-2" is already used by a node (clusters.0.nodes.1.name)',
    'error services.0.name: name "other" is already used by a cluster (clusters.1.name)',
  ]);
});
