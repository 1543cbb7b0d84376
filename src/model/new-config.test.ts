import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument } from 'yaml';
import { buildNewConfig, newHostNames, renderConfigYaml, type NewConfigOptions } from './new-config.ts';
import { parseConfig } from './parse.ts';

const OPTIONS: NewConfigOptions = {
  groupName: 'acme',
  clusterName: 'main',
  architecture: 'M1',
  platform: 'lxc',
  replicas: 2,
  failoverManager: 'repmgr',
  pooler: 'pgbouncer',
  durability: 'async',
  backup: 'shared',
  clientCidrs: [],
  sshKeys: [],
  addresses: [],
};

void test('host names: <cluster>-1..N, then backup-1 when backups are on', () => {
  assert.deepEqual(newHostNames(OPTIONS), ['main-1', 'main-2', 'main-3', 'backup-1']);
  assert.deepEqual(newHostNames({ clusterName: 'db', replicas: 0, backup: 'none' }), ['db-1']);
});

void test('the rendered file starts with the schema line, is commented, and parses to what was built', () => {
  const built = buildNewConfig({ ...OPTIONS, clientCidrs: ['203.0.113.0/24'] });
  const text = renderConfigYaml(built, '/opt/tpa/schema/config.schema.json');
  assert.equal(text.split('\n')[0], '# yaml-language-server: $schema=/opt/tpa/schema/config.schema.json');
  for (const section of [
    'name',
    'platform',
    'postgres',
    'defaults',
    'access',
    'backup',
    'clusters',
    'services',
  ]) {
    const at = text.split('\n').findIndex((l) => l.startsWith(`${section}:`));
    assert.ok(at > 0, section);
    assert.match(text.split('\n')[at - 1] ?? '', /^# /, `no comment above ${section}`);
  }
  assert.deepEqual(parseDocument(text).toJS(), built);
  const r = parseConfig(text);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.config?.clusters[0]?.backup_server, 'backup-1');
});

void test('bare hosts get their addresses in order; aws gets a region', () => {
  const bare = buildNewConfig({
    ...OPTIONS,
    platform: 'bare',
    replicas: 1,
    addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
  });
  assert.deepEqual(
    [...bare.clusters[0]!.nodes.map((n) => n.address), ...(bare.services ?? []).map((s) => s.address)],
    ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
  );
  const aws = buildNewConfig({ ...OPTIONS, platform: 'aws' });
  assert.equal(aws.aws?.region, 'eu-west-1');
  assert.equal(aws.defaults?.instance_type, 't3.medium');
});
