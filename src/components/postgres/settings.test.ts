import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../core/errors.ts';
import { findSetting } from '../../model/pg-settings/catalogue.ts';
import { checkSettingValue } from '../../model/pg-settings/value.ts';
import { confValue, nodeSettings, quorumStandbyNames, renderTpaConf, settingValue } from './settings.ts';
import { groupConfig, groupInventory, node } from '../../../test/support/postgres-fixtures.ts';

const nodes = [
  { name: 'main-1', role: 'primary' as const },
  { name: 'main-2', role: 'replica' as const },
];
const inv = () => ({
  group: 'acme',
  platform: 'lxc' as const,
  hosts: [node('main-1', '10.0.3.11', 'primary'), node('main-2', '10.0.3.12')],
});

void test("tpa's settings: TLS, SCRAM, replication, logging, tuned memory", () => {
  const i = groupInventory();
  const s = nodeSettings(i.hosts[0]!, groupConfig(), i).settings;
  assert.equal(s.listen_addresses, '*');
  assert.equal(s.port, 5432);
  assert.equal(s.password_encryption, 'scram-sha-256');
  assert.equal(s.ssl, true);
  assert.equal(s.ssl_cert_file, '/etc/postgresql/15/main/tls/server.crt');
  assert.equal(s.ssl_key_file, '/etc/postgresql/15/main/tls/server.key');
  assert.equal(s.ssl_ca_file, '/etc/postgresql/15/main/tls/ca.crt');
  assert.equal(s.wal_level, 'replica');
  assert.equal(s.hot_standby, true);
  assert.equal(s.hot_standby_feedback, true);
  assert.equal(s.wal_log_hints, true);
  assert.equal(s.max_connections, 100);
  assert.equal(s.shared_buffers, '256MB');
  assert.equal(s.shared_preload_libraries, 'pg_stat_statements,repmgr');
  assert.equal(s.synchronous_standby_names, '');
  assert.equal(s.synchronous_commit, 'on');
  assert.ok(String(s.log_line_prefix).includes('%m'));
});

void test('durability sync: quorum of every node name (stays right after a failover); alone, nothing to wait for', () => {
  const sync = groupConfig({ clusters: [{ name: 'main', durability: 'sync', nodes }] });
  const s = nodeSettings(inv().hosts[0]!, sync, inv()).settings;
  assert.equal(s.synchronous_standby_names, 'ANY 1 ("main-1", "main-2")');
  assert.equal(s.synchronous_commit, 'on');
  // the replica carries the same list, ready for promotion
  assert.equal(
    nodeSettings(inv().hosts[1]!, sync, inv()).settings.synchronous_standby_names,
    s.synchronous_standby_names,
  );
  const alone = groupConfig({ clusters: [{ name: 'main', durability: 'sync', nodes: [nodes[0]!] }] });
  const one = { ...inv(), hosts: [inv().hosts[0]!] };
  assert.equal(nodeSettings(one.hosts[0]!, alone, one).settings.synchronous_standby_names, '');
  assert.equal(quorumStandbyNames(['a"b']), 'ANY 1 ("a""b")');
});

void test('no repmgr, no repmgr library', () => {
  const c = groupConfig({ clusters: [{ name: 'main', failover_manager: 'patroni', nodes }] });
  assert.equal(
    nodeSettings(inv().hosts[0]!, c, inv()).settings.shared_preload_libraries,
    'pg_stat_statements',
  );
});

void test('overrides: group < cluster < node, and max_connections steers work_mem', () => {
  const c = groupConfig({
    postgres: { settings: { work_mem: '8MB', log_min_duration_statement: '250ms', max_connections: 50 } },
    clusters: [
      {
        name: 'main',
        postgres_settings: { work_mem: '16MB', jit: false },
        nodes: [
          { name: 'main-1', role: 'primary', postgres_settings: { work_mem: '32MB' } },
          { name: 'main-2', role: 'replica' },
        ],
      },
    ],
  });
  const primary = nodeSettings(inv().hosts[0]!, c, inv());
  const replica = nodeSettings(inv().hosts[1]!, c, inv());
  assert.equal(primary.settings.work_mem, '32MB');
  assert.equal(replica.settings.work_mem, '16MB');
  assert.equal(replica.settings.log_min_duration_statement, '250ms');
  assert.equal(replica.settings.jit, false);
  assert.equal(replica.settings.max_connections, 50);
  assert.ok(primary.overridden.has('work_mem') && !primary.overridden.has('shared_buffers'));

  const big = { ...inv(), hosts: inv().hosts.map((h) => ({ ...h, memoryMb: 16384 })) };
  const fewer = nodeSettings(
    big.hosts[1]!,
    groupConfig({ postgres: { settings: { max_connections: 25 } }, clusters: [{ name: 'main', nodes }] }),
    big,
  );
  const more = nodeSettings(big.hosts[1]!, groupConfig({ clusters: [{ name: 'main', nodes }] }), big);
  assert.ok(parseInt(String(fewer.settings.work_mem)) > parseInt(String(more.settings.work_mem)));
});

void test('overrides that would break other components, or the file, are refused with their config path', () => {
  const bad = groupConfig({
    postgres: { settings: { port: 5433, 'bad name': 1 } },
    clusters: [
      {
        name: 'main',
        nodes: [
          { name: 'main-1', role: 'primary', postgres_settings: { application_name: 'x\ny' } },
          nodes[1]!,
        ],
      },
    ],
  });
  assert.throws(
    () => nodeSettings(inv().hosts[0]!, bad, inv()),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.issues.map((i) => i.path).join(' ') ===
        'postgres.settings.port postgres.settings.bad name clusters.0.nodes.0.postgres_settings.application_name',
  );
});

void test('rendering: quoted strings, bare numbers, on/off; the file names overridden values', () => {
  assert.equal(confValue("it's"), "'it''s'");
  assert.equal(confValue(1.1), '1.1');
  assert.equal(confValue(true), 'on');
  assert.equal(settingValue(false), 'off');
  assert.equal(settingValue('256MB'), '256MB');
  const c = groupConfig({ postgres: { settings: { work_mem: '8MB' } }, clusters: [{ name: 'main', nodes }] });
  const text = renderTpaConf(nodeSettings(inv().hosts[0]!, c, inv()));
  assert.match(text, /^# Managed by tpa/);
  assert.match(text, /^work_mem = '8MB' {2}# from config\.yml$/m);
  assert.match(text, /^shared_buffers = '256MB'$/m);
  assert.match(text, /^ssl = on$/m);
  assert.match(text, /^max_connections = 100$/m);
  assert.match(text, /^log_line_prefix = '%m \[%p\] %q%u@%d\/%a '$/m);
  // one setting per line, nothing else
  for (const l of text.split('\n').filter((x) => x && !x.startsWith('#')))
    assert.match(l, /^[A-Za-z_.]+ = \S/);
});

void test("names: pg_settings' spelling (TimeZone), overrides match whatever case they are written in", () => {
  const c = groupConfig({
    postgres: { settings: { timezone: 'Europe/Paris', Work_Mem: '8MB' } },
    clusters: [{ name: 'main', nodes }],
  });
  const s = nodeSettings(inv().hosts[0]!, c, inv()).settings;
  assert.equal(s.TimeZone, 'Europe/Paris');
  assert.equal(s.work_mem, '8MB');
  assert.ok(!('timezone' in s) && !('Work_Mem' in s));
  const text = renderTpaConf(nodeSettings(inv().hosts[0]!, c, inv()));
  assert.equal(text.match(/^TimeZone = /gm)?.length, 1);
});

void test('every value tpa writes is one PostgreSQL 15 accepts, on machines from tiny to huge', () => {
  const refused: string[] = [];
  for (const memoryMb of [256, 1024, 16384, 1048576])
    for (const cpus of [1, 4, 128])
      for (const volumeGb of [1, 20, 65536]) {
        const i = inv();
        const hosts = i.hosts.map((h) => ({ ...h, memoryMb, cpus, volumeGb }));
        const sync = groupConfig({ clusters: [{ name: 'main', durability: 'sync', nodes }] });
        for (const [name, value] of Object.entries(nodeSettings(hosts[0]!, sync, { ...i, hosts }).settings)) {
          const spec = findSetting(name);
          const checked = spec && spec.context !== 'internal' ? checkSettingValue(spec, value) : undefined;
          if (!checked?.ok)
            refused.push(`${memoryMb}MB ${cpus} CPUs ${volumeGb}GB: ${name} = ${String(value)}`);
        }
      }
  assert.deepEqual(refused, []);
});
