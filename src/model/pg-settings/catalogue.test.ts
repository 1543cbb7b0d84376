import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSetting, reservedPrefixes, settingContext, settingsCatalogue } from './catalogue.ts';

void test('the catalogue is PostgreSQL 15 with pg_stat_statements, every type and context present', () => {
  const c = settingsCatalogue();
  assert.equal(c.postgres, 15);
  assert.deepEqual(reservedPrefixes(), ['pg_stat_statements']);
  assert.ok(c.settings.length > 300);
  assert.deepEqual(
    new Set(c.settings.map((s) => s.vartype)),
    new Set(['bool', 'integer', 'real', 'string', 'enum']),
  );
  for (const s of c.settings) {
    const numeric = s.vartype === 'integer' || s.vartype === 'real';
    assert.equal(s.min !== undefined && s.max !== undefined, numeric, s.name);
    assert.equal(s.enumvals !== undefined, s.vartype === 'enum', s.name);
  }
});

void test('names are found in any case; pg_settings spelling kept', () => {
  assert.equal(findSetting('SHARED_BUFFERS')?.name, 'shared_buffers');
  assert.equal(findSetting('timezone')?.name, 'TimeZone');
  assert.equal(findSetting('pg_stat_statements.max')?.vartype, 'integer');
  assert.equal(findSetting('no_such_setting'), undefined);
});

void test('settingContext: restart (postmaster), reload (sighup), session, read-only', () => {
  assert.equal(settingContext('shared_buffers'), 'postmaster');
  assert.equal(settingContext('wal_level'), 'postmaster');
  assert.equal(settingContext('pg_stat_statements.max'), 'postmaster');
  assert.equal(settingContext('checkpoint_timeout'), 'sighup');
  assert.equal(settingContext('work_mem'), 'user');
  assert.equal(settingContext('log_min_duration_statement'), 'superuser');
  assert.equal(settingContext('block_size'), 'internal');
  assert.equal(settingContext('repmgr.anything'), undefined);
});
