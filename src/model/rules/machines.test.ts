import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config } from '../testdata/fixtures.ts';
import { found } from '../testdata/check.ts';
import { knownInstanceTypes } from './machines.ts';

void test('knownInstanceTypes: per platform, in defaults, nodes and services', () => {
  assert.deepEqual(found(knownInstanceTypes, config()), []);
  const aws = config((c) => {
    c.platform = 'aws';
    c.defaults = { instance_type: 'm6i.large' };
    c.clusters[0]!.nodes[1]!.instance_type = 'r6i.xlarge';
  });
  assert.deepEqual(found(knownInstanceTypes, aws), []);
  const bad = config((c) => {
    c.defaults = { instance_type: 't3.medium' };
    c.clusters[0]!.nodes[1]!.instance_type = 'huge';
    c.services[0]!.instance_type = 'large';
  });
  assert.deepEqual(found(knownInstanceTypes, bad), [
    'error defaults.instance_type: instance type "t3.medium" is not known on platform lxc',
    'error clusters.0.nodes.1.instance_type: instance type "huge" is not known on platform lxc',
  ]);
  assert.match(knownInstanceTypes(bad)[0]?.hint ?? '', /small, medium, large/);
  // a name inherited from Object.prototype is not an instance type
  const proto = config((c) => {
    c.defaults = { instance_type: 'constructor' };
  });
  assert.equal(found(knownInstanceTypes, proto).length, 1);
});
