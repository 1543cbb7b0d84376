import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APT_BLOCK,
  capacity,
  hostAddress,
  hostNumber,
  overlaps,
  parseSubnet,
  pickSubnet,
  stableMac,
  subnetText,
} from './network.ts';
import { assignHostNumbers } from './addresses.ts';
import { APT_PROXY } from './names.ts';

void test('parseSubnet clears host bits', () => {
  assert.deepEqual(parseSubnet('10.123.7.9/24'), { network: '10.123.7.0', prefix: 24 });
  assert.deepEqual(parseSubnet('192.168.0.0/16'), { network: '192.168.0.0', prefix: 16 });
});

void test('overlaps', () => {
  assert.equal(overlaps(parseSubnet('10.123.0.0/16'), parseSubnet('10.123.5.0/24')), true);
  assert.equal(overlaps(parseSubnet('10.123.4.0/24'), parseSubnet('10.123.5.0/24')), false);
  assert.equal(overlaps(parseSubnet('10.123.5.7/32'), parseSubnet('10.123.5.0/24')), true);
});

void test('pickSubnet: a free /24 of 10.123.0.0/16, never the apt proxy block, stable for a seed', () => {
  const a = pickSubnet([], 'tpa-abcdef')!;
  assert.equal(a.prefix, 24);
  assert.match(a.network, /^10\.123\.\d+\.0$/);
  assert.equal(overlaps(a, APT_BLOCK), false);
  assert.deepEqual(pickSubnet([], 'tpa-abcdef'), a);
  // taken: the next one is chosen
  const b = pickSubnet([a], 'tpa-abcdef')!;
  assert.notDeepEqual(b, a);
  assert.equal(overlaps(a, b), false);
});

void test('pickSubnet: a host route covering the whole range leaves nothing', () => {
  assert.equal(pickSubnet([parseSubnet('10.0.0.0/8')], 'x'), undefined);
});

void test('pickSubnet never returns the apt proxy address block', () => {
  for (let i = 0; i < 300; i++) {
    const s = pickSubnet([], `seed-${i}`)!;
    assert.equal(overlaps(s, { network: APT_PROXY.address, prefix: 32 }), false);
  }
});

void test('host addresses and numbers', () => {
  const s = parseSubnet('10.123.7.0/24');
  assert.equal(hostAddress(s, 1), '10.123.7.1');
  assert.equal(hostNumber(s, '10.123.7.11'), 11);
  assert.equal(capacity(s), 253);
  assert.throws(() => hostAddress(s, 255));
  assert.equal(subnetText(s), '10.123.7.0/24');
});

void test('stableMac is locally administered and deterministic', () => {
  assert.match(stableMac('tpa-abcdef'), /^02(:[0-9a-f]{2}){5}$/);
  assert.equal(stableMac('x'), stableMac('x'));
  assert.notEqual(stableMac('x'), stableMac('y'));
});

void test('assignHostNumbers keeps known addresses and fills the lowest free from 11', () => {
  const s = parseSubnet('10.123.7.0/24');
  const known = new Map([
    ['b', '10.123.7.12'],
    ['gone', '10.123.7.11'],
  ]);
  const n = assignHostNumbers(['a', 'b', 'c'], s, known);
  assert.equal(n.get('b'), 12);
  assert.equal(n.get('a'), 11);
  assert.equal(n.get('c'), 13);
});

void test('assignHostNumbers: a known address outside the subnet is not kept', () => {
  const s = parseSubnet('10.123.7.0/24');
  const n = assignHostNumbers(['a'], s, new Map([['a', '10.9.9.9']]));
  assert.equal(n.get('a'), 11);
});

void test('assignHostNumbers: a small subnet starts at 2 and runs out with a clear error', () => {
  const s = parseSubnet('10.1.1.0/29'); // .1 gateway, .2-.6 nodes
  const n = assignHostNumbers(['a', 'b', 'c', 'd', 'e'], s, new Map());
  assert.deepEqual([...n.values()], [2, 3, 4, 5, 6]);
  assert.throws(
    () => assignHostNumbers(['a', 'b', 'c', 'd', 'e', 'f'], s, new Map()),
    /no address left for f/,
  );
});
