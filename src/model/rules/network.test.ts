import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config } from '../testdata/fixtures.ts';
import { found } from '../testdata/check.ts';
import { awsSection, clientCidrs, hostAddresses, lxcSubnet } from './network.ts';

void test('clientCidrs: v4 and v6, malformed, host bits', () => {
  const ok = config((c) => {
    c.access!.client_cidrs = ['203.0.113.10/32', '10.0.0.0/8', '2001:db8::/32', '::/0'];
  });
  assert.deepEqual(found(clientCidrs, ok), []);
  const bad = config((c) => {
    c.access!.client_cidrs = ['203.0.113.10', '10.0.0.0/33', 'anywhere', '10.0.0.1/8'];
  });
  assert.deepEqual(found(clientCidrs, bad), [
    'error access.client_cidrs.0: "203.0.113.10" has no prefix length',
    'error access.client_cidrs.1: "10.0.0.0/33" has prefix /33, more than 32 bits',
    'error access.client_cidrs.2: "anywhere" is not a CIDR',
    'warning access.client_cidrs.3: "10.0.0.1/8" has host bits set; it means 10.0.0.0/8',
  ]);
});

void test('lxcSubnet: private IPv4 /16../28 network', () => {
  const subnet = (s: string) =>
    found(
      lxcSubnet,
      config((c) => {
        c.lxc = { subnet: s };
      }),
    );
  assert.deepEqual(subnet('10.213.7.0/24'), []);
  assert.deepEqual(subnet('172.16.0.0/16'), []);
  assert.deepEqual(subnet('192.168.50.16/28'), []);
  assert.deepEqual(subnet('8.8.8.0/24'), [
    'error lxc.subnet: "8.8.8.0/24" is not a private RFC 1918 network',
  ]);
  assert.deepEqual(subnet('10.0.0.0/8'), ['error lxc.subnet: prefix /8 is outside /16../28']);
  assert.deepEqual(subnet('10.0.0.0/30'), ['error lxc.subnet: prefix /30 is outside /16../28']);
  assert.deepEqual(subnet('fd00::/64'), ['error lxc.subnet: "fd00::/64" is IPv6; the bridge subnet is IPv4']);
  assert.deepEqual(subnet('10.0.0.5/24'), ['error lxc.subnet: "10.0.0.5/24" has host bits set']);
  assert.deepEqual(subnet('10.0.0.0'), ['error lxc.subnet: "10.0.0.0" has no prefix length']);
  const elsewhere = config((c) => {
    c.platform = 'aws';
    c.lxc = {};
  });
  assert.deepEqual(found(lxcSubnet, elsewhere), ['warning lxc: the lxc section is ignored on platform aws']);
});

void test('hostAddresses: bare needs one on every host; others ignore them', () => {
  const bare = config((c) => {
    c.platform = 'bare';
    c.clusters[0]!.nodes[0]!.address = '192.0.2.11';
    c.clusters[0]!.nodes[1]!.address = 'db2.example.org';
    c.clusters[0]!.nodes[2]!.address = 'not an address';
  });
  assert.deepEqual(found(hostAddresses, bare), [
    'error clusters.0.nodes.2.address: "not an address" is neither an IP address nor a host name',
    'error services.0: "backup-1" has no address; platform bare needs one for every host',
  ]);
  const lxc = config((c) => {
    c.clusters[0]!.nodes[0]!.address = '192.0.2.11';
  });
  assert.deepEqual(found(hostAddresses, lxc), [
    'warning clusters.0.nodes.0.address: address is ignored on platform lxc, which assigns addresses',
  ]);
});

void test('awsSection: region name, ignored elsewhere', () => {
  const ok = config((c) => {
    c.platform = 'aws';
    c.aws = { region: 'us-east-1' };
  });
  assert.deepEqual(found(awsSection, ok), []);
  const bad = config((c) => {
    c.platform = 'aws';
    c.aws = { region: 'Ireland' };
  });
  assert.deepEqual(found(awsSection, bad), ['error aws.region: "Ireland" is not an AWS region name']);
  const lxc = config((c) => {
    c.aws = {};
  });
  assert.deepEqual(found(awsSection, lxc), ['warning aws: the aws section is ignored on platform lxc']);
});
