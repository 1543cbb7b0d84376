import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config } from '../testdata/fixtures.ts';
import { found } from '../testdata/check.ts';
import { postgresSettings, settingProblem } from './pg-settings.ts';

const problem = (name: string, value: string | number | boolean) => {
  const p = settingProblem(name, value);
  return p && (p.hint ? `${p.message} (${p.hint})` : p.message);
};

void test('every layer is checked, each problem at its own path', () => {
  assert.deepEqual(found(postgresSettings, config()), []);
  const c = config((x) => {
    x.postgres = { version: 15, settings: { work_mem: '8MB', max_connections: 'many' } };
    x.clusters[0]!.postgres_settings = { shared_buffers: 'lots', wal_level: 'logical' };
    x.clusters[0]!.nodes[2]!.postgres_settings = { hot_standby: 'perhaps' };
  });
  assert.deepEqual(found(postgresSettings, c), [
    'error postgres.settings.max_connections: "many" is not an integer',
    'error clusters.0.postgres_settings.shared_buffers: "lots" is not a valid memory size',
    'error clusters.0.nodes.2.postgres_settings.hot_standby: "perhaps" is not a boolean',
  ]);
});

void test('the settings tpa users write most are accepted as written', () => {
  const ok = {
    shared_buffers: '2GB',
    work_mem: '64MB',
    max_connections: 200,
    log_min_duration_statement: '250ms',
    checkpoint_timeout: '15min',
    checkpoint_completion_target: 0.9,
    jit: false,
    wal_level: 'logical',
    synchronous_commit: 'off',
    random_page_cost: 1.1,
    TimeZone: 'Europe/Paris',
    Work_Mem: '8MB',
    'pg_stat_statements.max': 10000,
    'pg_stat_statements.track': 'all',
    'repmgr.anything': 'goes',
    'auto_explain.log_min_duration': '1s',
  };
  for (const [name, value] of Object.entries(ok)) assert.equal(problem(name, value), undefined, name);
});

void test('unknown names: a suggestion when one is close, else how extension settings are named', () => {
  assert.equal(
    problem('shared_bufers', '1GB'),
    'PostgreSQL 15 has no setting shared_bufers (did you mean shared_buffers?)',
  );
  assert.equal(
    problem('Shared_Bufers', '1GB'),
    'PostgreSQL 15 has no setting Shared_Bufers (did you mean shared_buffers?)',
  );
  assert.equal(
    problem('log_min_duration_statment', '1s'),
    'PostgreSQL 15 has no setting log_min_duration_statment (did you mean log_min_duration_statement?)',
  );
  assert.equal(
    problem('foo_bar_baz', 1),
    "PostgreSQL 15 has no setting foo_bar_baz (an extension's setting is written with its prefix, e.g. pg_stat_statements.max)",
  );
  assert.equal(
    problem('effective-cache-size', '1GB'),
    '"effective-cache-size" is not a setting name (did you mean effective_cache_size?)',
  );
});

void test('dotted names: any extension is taken as written, but pg_stat_statements has only its own', () => {
  assert.equal(problem('my_ext.whatever', 'not checked'), undefined);
  assert.equal(
    problem('pg_stat_statements.maxx', 1000),
    'pg_stat_statements has no setting pg_stat_statements.maxx (did you mean pg_stat_statements.max?)',
  );
  assert.match(
    problem('pg_stat_statements.everything', 1)!,
    /\(pg_stat_statements has pg_stat_statements\.max, /,
  );
  assert.match(problem('pg_stat_statements.max', 99)!, /^99 is out of range/);
});

void test('read-only settings cannot be set; the ones tpa manages cannot be overridden', () => {
  assert.equal(
    problem('block_size', 8192),
    'block_size cannot be set: it is read-only, fixed when PostgreSQL is built or the cluster is created',
  );
  assert.match(problem('server_version', '16')!, /^server_version cannot be set/);
  assert.equal(
    problem('port', 5433),
    'port is managed by tpa and cannot be overridden (other components rely on its value)',
  );
  assert.match(problem('Data_Directory', '/srv')!, /managed by tpa/);
});

void test('values on more than one line are refused whatever the setting', () => {
  assert.equal(problem('application_name', 'a\nb'), 'a setting value must be one line');
  assert.equal(problem('repmgr.x', 'a\rb'), 'a setting value must be one line');
});

void test('another PostgreSQL version is not checked against 15 (postgresVersionAvailable refuses it)', () => {
  const c = config((x) => {
    x.postgres = { version: 16, settings: { shared_buffers: 'lots' } };
  });
  assert.deepEqual(found(postgresSettings, c), []);
});
