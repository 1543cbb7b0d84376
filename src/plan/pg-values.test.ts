import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settingMatches, toBaseUnits } from './pg-values.ts';

void test('memory values convert to the base unit of pg_settings', () => {
  assert.equal(toBaseUnits('128MB', '8kB'), 16384);
  assert.equal(toBaseUnits('1GB', 'kB'), 1048576);
  assert.equal(toBaseUnits('16384', '8kB'), 16384);
  assert.equal(toBaseUnits('1TB', 'MB'), 1048576);
  assert.equal(toBaseUnits('abc', 'kB'), null);
  assert.equal(toBaseUnits('10furlongs', 'kB'), null);
});

void test('time values convert to ms, s or min', () => {
  assert.equal(toBaseUnits('5min', 's'), 300);
  assert.equal(toBaseUnits('2s', 'ms'), 2000);
  assert.equal(toBaseUnits('1h', 'min'), 60);
  assert.equal(toBaseUnits("'30s'", 's'), 30);
});

void test('settingMatches by vartype', () => {
  assert.ok(settingMatches('128MB', { setting: '16384', unit: '8kB', vartype: 'integer' }));
  assert.ok(!settingMatches('256MB', { setting: '16384', unit: '8kB', vartype: 'integer' }));
  assert.ok(settingMatches('on', { setting: 'on', vartype: 'bool' }));
  assert.ok(settingMatches('true', { setting: 'on', vartype: 'bool' }));
  assert.ok(settingMatches('off', { setting: 'off', vartype: 'bool' }));
  assert.ok(!settingMatches('off', { setting: 'on', vartype: 'bool' }));
  assert.ok(settingMatches('Replica', { setting: 'replica', vartype: 'enum' }));
  assert.ok(settingMatches("'*'", { setting: '*', vartype: 'string' }));
  assert.ok(!settingMatches('localhost', { setting: '*', vartype: 'string' }));
  assert.ok(settingMatches('0.9', { setting: '0.9', vartype: 'real' }));
  assert.ok(settingMatches('2ms', { setting: '2', unit: 'ms', vartype: 'real' }));
  assert.ok(settingMatches('-1', { setting: '-1', unit: 'ms', vartype: 'integer' }));
});

void test('settingMatches without a vartype tries numbers and booleans', () => {
  assert.ok(settingMatches('1GB', { setting: '131072', unit: '8kB' }));
  assert.ok(settingMatches('yes', { setting: 'on' }));
  assert.ok(!settingMatches('x', { setting: 'y' }));
});

void test('enum aliases and boolean spellings of enums', () => {
  assert.ok(settingMatches('on', { setting: 'pglz', vartype: 'enum' }, 'wal_compression'));
  assert.ok(!settingMatches('lz4', { setting: 'pglz', vartype: 'enum' }, 'wal_compression'));
  assert.ok(settingMatches('hot_standby', { setting: 'replica', vartype: 'enum' }, 'wal_level'));
  assert.ok(settingMatches('true', { setting: 'on', vartype: 'enum' }, 'synchronous_commit'));
  assert.ok(!settingMatches('remote_apply', { setting: 'on', vartype: 'enum' }, 'synchronous_commit'));
});

void test('string values keep their spaces', () => {
  assert.ok(settingMatches('%m [%p] ', { setting: '%m [%p] ', vartype: 'string' }));
  assert.ok(settingMatches("'%m [%p] '", { setting: '%m [%p] ', vartype: 'string' }));
  assert.ok(!settingMatches('%m [%p]', { setting: '%m [%p] ', vartype: 'string' }));
});
