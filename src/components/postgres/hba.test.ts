import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../core/errors.ts';
import {
  CLIENT_BEGIN,
  CLIENT_END,
  clientCidrs,
  clientHbaRules,
  hostCidr,
  infraHbaRules,
  renderHbaFile,
  renderHbaInfra,
  renderHbaRule,
  type HbaRule,
} from './hba.ts';
import { groupConfig, groupInventory, node } from '../../../test/support/postgres-fixtures.ts';

const line = (r: HbaRule) =>
  renderHbaRule({ ...r, comment: undefined })
    .trim()
    .split(/\s+/)
    .join(' ');

void test('addresses become host CIDRs', () => {
  assert.equal(hostCidr('10.0.3.11'), '10.0.3.11/32');
  assert.equal(hostCidr('fd00::5'), 'fd00::5/128');
});

void test('client networks: anywhere by default, normalised and deduplicated when given, errors with paths', () => {
  assert.deepEqual(clientCidrs(groupConfig()), ['0.0.0.0/0', '::/0']);
  const given = groupConfig({
    access: { client_cidrs: ['203.0.113.10/32', '198.51.100.77/24', '198.51.100.0/24'] },
  });
  assert.deepEqual(clientCidrs(given), ['203.0.113.10/32', '198.51.100.0/24']);
  const bad = groupConfig({ access: { client_cidrs: ['10.0.0.1/32', 'not-a-net'] } });
  assert.throws(
    () => clientCidrs(bad),
    (e: unknown) => e instanceof ConfigError && e.issues[0]?.path === 'access.client_cidrs.1',
  );
});

void test('infrastructure rules: peer for postgres, TLS + SCRAM from the cluster nodes only, never trust', () => {
  const inv = groupInventory();
  const rules = infraHbaRules(inv.hosts[0]!, groupConfig(), inv).map(line);
  assert.equal(rules[0], 'local all postgres peer');
  for (const addr of ['10.0.3.11', '10.0.3.12', '10.0.3.13']) {
    assert.ok(rules.includes(`hostssl replication replicator ${addr}/32 scram-sha-256`), addr);
    assert.ok(rules.includes(`hostssl repmgr repmgr ${addr}/32 scram-sha-256`), addr);
    assert.ok(rules.includes(`hostssl replication repmgr ${addr}/32 scram-sha-256`), addr);
  }
  assert.ok(rules.includes('local all pgbouncer_auth scram-sha-256'));
  assert.ok(
    rules.every((r) => !/\btrust\b|\bmd5\b|\bhost\b /.test(r)),
    'no trust, md5 or plain host rule',
  );
  assert.ok(
    rules.every((r) => !r.includes('0.0.0.0/0')),
    'no client network among the infrastructure',
  );
  // only hosts of this cluster
  assert.ok(rules.every((r) => !r.includes('10.0.3.99')));
});

void test('infrastructure rules follow the configuration: no repmgr, no pooler, barman when backups are on', () => {
  const inv = groupInventory([
    node('backup-1', '10.0.3.50', 'barman'),
    node('other-1', '10.0.3.99', 'primary', { cluster: 'other' }),
  ]);
  const plain = groupConfig({
    backup: { mode: 'shared' },
    clusters: [
      {
        name: 'main',
        failover_manager: 'patroni',
        pooler: 'none',
        nodes: [
          { name: 'main-1', role: 'primary' },
          { name: 'main-2', role: 'replica' },
          { name: 'main-3', role: 'replica', upstream: 'main-2' },
        ],
      },
      { name: 'other', nodes: [{ name: 'other-1', role: 'primary' }] },
    ],
  });
  const rules = infraHbaRules(inv.hosts[0]!, plain, inv).map(line);
  assert.ok(!rules.some((r) => r.includes('repmgr')));
  assert.ok(!rules.some((r) => r.includes('pgbouncer')));
  assert.ok(rules.includes('hostssl postgres barman 10.0.3.50/32 scram-sha-256'));
  assert.ok(rules.includes('hostssl replication streaming_barman 10.0.3.50/32 scram-sha-256'));
  assert.ok(!rules.some((r) => r.includes('10.0.3.99')), 'the other cluster is not let in');
});

void test('client rules: hostssl per CIDR with scram-sha-256, md5 only when asked, pooler over the socket', () => {
  const inv = groupInventory();
  const scram = clientHbaRules(
    inv.hosts[1]!,
    groupConfig({ access: { client_cidrs: ['203.0.113.10/32'] } }),
  ).map(line);
  assert.deepEqual(scram, ['local all all scram-sha-256', 'hostssl all all 203.0.113.10/32 scram-sha-256']);
  const md5 = clientHbaRules(inv.hosts[1]!, groupConfig({ access: { client_auth: 'md5' } })).map(line);
  assert.deepEqual(md5, [
    'local all all scram-sha-256',
    'hostssl all all 0.0.0.0/0 md5',
    'hostssl all all ::/0 md5',
  ]);
});

void test('the file: header and infrastructure first, the client section last between its markers', () => {
  const inv = groupInventory();
  const config = groupConfig();
  const infra = infraHbaRules(inv.hosts[0]!, config, inv);
  const client = clientHbaRules(inv.hosts[0]!, config);
  const file = renderHbaFile(infra, client);
  assert.ok(file.startsWith(renderHbaInfra(infra)), 'the earlier phases write exactly this prefix');
  const lines = file.trimEnd().split('\n');
  assert.equal(lines.at(-1), CLIENT_END);
  const begin = lines.indexOf(CLIENT_BEGIN);
  assert.ok(begin > 0);
  const clientLines = lines.slice(begin + 1, -1).filter((l) => !l.startsWith('#'));
  assert.equal(clientLines.length, client.length);
  // every rule line is a well-formed hba line
  for (const l of lines.filter((x) => x && !x.startsWith('#'))) {
    assert.match(l, /^(local\s+\S+\s+\S+|hostssl\s+\S+\s+\S+\s+\S+\/\d+)\s+(peer|scram-sha-256|md5)$/, l);
  }
});
