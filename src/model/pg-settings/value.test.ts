import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSetting } from './catalogue.ts';
import { checkSettingValue, parseBool, settingText, type SettingInput } from './value.ts';

function check(name: string, value: SettingInput) {
  const spec = findSetting(name);
  assert.ok(spec, name);
  return checkSettingValue(spec, value);
}
const accepted = (name: string, value: SettingInput) => check(name, value).ok;
/** "message (hint)" of a refused value */
function refusal(name: string, value: SettingInput): string {
  const r = check(name, value);
  assert.ok(!r.ok, `${name} = ${JSON.stringify(value)} was accepted`);
  return r.hint ? `${r.message} (${r.hint})` : r.message;
}

void test('the text postgresql.conf gets: booleans as on/off, numbers as JavaScript writes them', () => {
  assert.deepEqual([true, false, 16384, 0.9, 1e21, '128MB'].map(settingText), [
    'on',
    'off',
    '16384',
    '0.9',
    '1e+21',
    '128MB',
  ]);
});

void test('booleans: parse_bool, prefixes of true/false/yes/no, on, of/off, 1, 0, any case', () => {
  for (const t of ['on', 'ON', 'true', 't', 'tr', 'TRUE', 'yes', 'y', 'Ye', '1'])
    assert.equal(parseBool(t), true, t);
  for (const f of ['off', 'of', 'OFF', 'false', 'f', 'fals', 'no', 'n', '0'])
    assert.equal(parseBool(f), false, f);
  for (const bad of ['o', '', 'offf', 'truex', 'nope', '2', '01', ' on', 'on ', 'enabled'])
    assert.equal(parseBool(bad), undefined, bad);
  assert.ok(accepted('jit', true) && accepted('jit', false) && accepted('jit', 1) && accepted('jit', 'Yes'));
  assert.equal(
    refusal('jit', 'maybe'),
    '"maybe" is not a boolean (use on or off; true/false, yes/no and 1/0 work too)',
  );
  assert.equal(refusal('jit', 2), '2 is not a boolean (use on or off; true/false, yes/no and 1/0 work too)');
});

void test('integers: plain, hex, octal, rounded fractions, min and max edges', () => {
  assert.ok(accepted('max_connections', 1) && accepted('max_connections', 262143));
  assert.ok(accepted('max_connections', '0x64') && accepted('max_connections', '0144'));
  assert.ok(accepted('max_connections', 100.4) && accepted('max_connections', '1e2'));
  assert.equal(refusal('max_connections', 0), '0 is out of range (use an integer from 1 to 262143)');
  assert.equal(
    refusal('max_connections', 262144),
    '262144 is out of range (use an integer from 1 to 262143)',
  );
  // 0.5 rounds to 0 (half to even), below the minimum; 1.5 rounds to 2
  assert.ok(!accepted('max_connections', 0.5) && accepted('max_connections', 1.5));
  assert.equal(
    refusal('max_connections', '10MB'),
    '"10MB" has a unit, but this setting takes none (use an integer from 1 to 262143)',
  );
  assert.equal(
    refusal('max_connections', 'many'),
    '"many" is not an integer (use an integer from 1 to 262143)',
  );
  assert.equal(refusal('max_connections', true), 'true is not an integer (use an integer from 1 to 262143)');
});

void test('memory sizes: pages of 8kB or a unit, converted then checked against the range', () => {
  assert.deepEqual(check('shared_buffers', '128MB'), { ok: true, value: 16384 });
  assert.deepEqual(check('shared_buffers', 16384), { ok: true, value: 16384 });
  assert.ok(accepted('shared_buffers', '128kB') && accepted('shared_buffers', '8TB') === false);
  assert.ok(accepted('shared_buffers', '127kB'), '127kB is 15.875 pages, rounded to 16');
  assert.equal(
    refusal('shared_buffers', 'lots'),
    '"lots" is not a valid memory size (use a number of 8kB pages or a size in B, kB, MB, GB or TB, case-sensitive: 16 to 1073741823 pages, 128kB to ~8TB)',
  );
  assert.match(refusal('shared_buffers', '64kB'), /^"64kB" \(8 pages\) is out of range \(/);
  assert.match(refusal('shared_buffers', '128mb'), /is not a valid memory size .*case-sensitive/);
  assert.match(refusal('shared_buffers', '10s'), /is not a valid memory size/);
  assert.ok(accepted('work_mem', '64kB') && !accepted('work_mem', '63kB') && accepted('work_mem', '2047GB'));
  assert.match(
    refusal('work_mem', '4TB'),
    /^"4TB" is out of range \(use a number of kB .*: 64 to 2147483647 kB, 64kB to ~2TB\)/,
  );
  // -1 is "no limit": below it is out of range; the human form starts at what is positive
  assert.ok(accepted('temp_file_limit', -1) && !accepted('temp_file_limit', -2));
  assert.match(refusal('temp_file_limit', -2), /: -1 to 2147483647 kB, up to ~2TB\)$/);
  assert.ok(accepted('log_parameter_max_length', '1kB'));
  assert.ok(accepted('min_wal_size', '2048kB') && !accepted('min_wal_size', '1MB'));
});

void test('durations: a number of the base unit or us, ms, s, min, h, d', () => {
  assert.deepEqual(check('checkpoint_timeout', '15min'), { ok: true, value: 900 });
  assert.deepEqual(check('log_min_duration_statement', '1s'), { ok: true, value: 1000 });
  assert.deepEqual(check('log_rotation_age', '90s'), { ok: true, value: 2 });
  assert.ok(accepted('checkpoint_timeout', '30s') && !accepted('checkpoint_timeout', '29s'));
  assert.ok(accepted('checkpoint_timeout', '1d') && !accepted('checkpoint_timeout', '1d1s'));
  assert.equal(
    refusal('checkpoint_timeout', '1sec'),
    '"1sec" is not a valid duration (use a number of seconds or a duration in us, ms, s, min, h or d, case-sensitive: 30 to 86400 seconds, 30s to 1d)',
  );
  assert.match(refusal('statement_timeout', '25d'), /^"25d" is out of range/);
  assert.match(refusal('statement_timeout', '1m'), /is not a valid duration/);
});

void test('reals: a number in range, a unit where the setting has one', () => {
  assert.ok(accepted('checkpoint_completion_target', 0.9) && accepted('checkpoint_completion_target', '1'));
  assert.equal(
    refusal('checkpoint_completion_target', 1.5),
    '1.5 is out of range (use a number from 0 to 1)',
  );
  assert.equal(refusal('random_page_cost', -1), '-1 is out of range (use a number of at least 0)');
  assert.equal(
    refusal('random_page_cost', '1ms'),
    '"1ms" has a unit, but this setting takes none (use a number of at least 0)',
  );
  assert.deepEqual(check('vacuum_cost_delay', '500us'), { ok: true, value: 0.5 });
  assert.match(refusal('vacuum_cost_delay', '1s'), /^"1s" \(1000 milliseconds\) is out of range/);
});

void test('enums: listed values in any case, and the aliases pg_settings does not list', () => {
  assert.ok(accepted('wal_level', 'replica') && accepted('wal_level', 'LOGICAL'));
  // old names of replica, still taken by the server
  assert.ok(accepted('wal_level', 'archive') && accepted('wal_level', 'hot_standby'));
  assert.equal(refusal('wal_level', 'fast'), '"fast" is not one of "minimal", "replica", "logical"');
  assert.equal(refusal('wal_level', true), 'true is not one of "minimal", "replica", "logical"');
  // the on/off enums take every boolean spelling, but only whole words (no prefixes)
  for (const v of [true, false, 'on', 'yes', 'no', 'true', '1', 0])
    assert.ok(accepted('synchronous_commit', v), String(v));
  assert.ok(!accepted('synchronous_commit', 't'));
  assert.ok(accepted('huge_pages', 'yes') && accepted('huge_pages', 'TRY') && !accepted('huge_pages', 'y'));
  assert.ok(
    accepted('archive_mode', true) &&
      accepted('wal_compression', 'on') &&
      accepted('wal_compression', 'zstd'),
  );
  assert.ok(accepted('log_min_messages', 'debug') && !accepted('log_min_messages', 'warn'));
  assert.ok(accepted('default_transaction_isolation', 'Repeatable Read'));
  assert.ok(!accepted('password_encryption', 'on'), 'PostgreSQL 14 dropped on/off here');
  assert.ok(accepted('ssl_max_protocol_version', ''));
});

void test('strings: anything on one line', () => {
  assert.ok(accepted('application_name', 'anything at all') && accepted('search_path', 5));
});
