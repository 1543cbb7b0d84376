import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from './cidr.ts';

void test('IPv4 and IPv6 CIDRs parse, with their network and range', () => {
  const v4 = parseCidr('10.1.2.3/16');
  assert.deepEqual(v4.ok && v4.cidr, {
    kind: 'ipv4',
    address: '10.1.2.3',
    prefix: 16,
    network: '10.1.0.0',
    range: 'private',
  });
  const v6 = parseCidr('2001:db8::/32');
  assert.equal(v6.ok && v6.cidr.kind, 'ipv6');
  assert.equal(v6.ok && v6.cidr.network, '2001:db8::');
  assert.equal(parseCidr('0.0.0.0/0').ok, true);
  assert.equal(parseCidr('::/0').ok, true);
});

void test('ambiguous or malformed forms are refused', () => {
  for (const bad of [
    '10/8',
    '010.0.0.1/32',
    '0x0a.0.0.0/8',
    '1.2.3.4/33',
    '1.2.3.4/08',
    '2001:db8::/129',
    ' 1.2.3.4/8',
    'a.b.c.d/8',
    '1.2.3.4/',
  ]) {
    assert.equal(parseCidr(bad).ok, false, bad);
  }
  const bare = parseCidr('203.0.113.7');
  assert.equal(bare.ok, false);
  assert.match(!bare.ok ? (bare.hint ?? '') : '', /203\.0\.113\.7\/32/);
  const bare6 = parseCidr('2001:db8::1');
  assert.match(!bare6.ok ? (bare6.hint ?? '') : '', /\/128/);
});
