import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import cronParser from 'cron-parser';
import {
  barmanConninfo,
  canonicalRetention,
  renderBarmanPgpass,
  renderCronFile,
  renderServerConf,
  streamingConninfo,
} from './conf.ts';

const input = {
  server: 'main',
  group: 'acme',
  primaryAddress: '10.0.3.11',
  pgVersion: 15,
  retention: 'recovery window of 7 days',
};

/** barman reads its configuration with Python's configparser: parse it the same way */
function parseIni(text: string): Record<string, Record<string, string>> {
  const r = spawnSync(
    'python3',
    [
      '-c',
      'import configparser,json,sys\nc=configparser.ConfigParser()\nc.read_string(sys.stdin.read())\nprint(json.dumps({s: dict(c[s]) for s in c.sections()}))',
    ],
    { input: text, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, Record<string, string>>;
}

void test('server configuration: streaming archiver through a slot, postgres backups, current primary', () => {
  const conf = parseIni(renderServerConf(input));
  assert.deepEqual(Object.keys(conf), ['main']);
  const s = conf.main!;
  assert.equal(s.backup_method, 'postgres');
  assert.equal(s.streaming_archiver, 'on');
  assert.equal(s.archiver, 'off');
  assert.equal(s.slot_name, 'barman');
  assert.equal(s.create_slot, 'auto');
  assert.equal(s.retention_policy, 'RECOVERY WINDOW OF 7 DAYS');
  assert.equal(s.minimum_redundancy, '1');
  assert.equal(s.path_prefix, '/usr/lib/postgresql/15/bin');
  assert.match(s.conninfo!, /(^| )host=10\.0\.3\.11( |$)/);
  assert.match(s.conninfo!, /(^| )user=barman( |$)/);
  assert.match(s.conninfo!, /(^| )dbname=postgres( |$)/);
  assert.match(s.conninfo!, /(^| )sslmode=verify-full( |$)/);
  assert.match(s.streaming_conninfo!, /(^| )user=streaming_barman( |$)/);
  assert.match(s.streaming_conninfo!, /(^| )host=10\.0\.3\.11( |$)/);
});

void test('no password anywhere in the server configuration', () => {
  const text = renderServerConf(input);
  assert.doesNotMatch(text, /password/i);
});

void test('conninfo strings are libpq key=value pairs with TLS verified against the group CA', () => {
  for (const c of [barmanConninfo('10.1.2.3'), streamingConninfo('10.1.2.3')]) {
    const kv = Object.fromEntries(c.split(' ').map((p) => p.split('=') as [string, string]));
    assert.equal(kv.host, '10.1.2.3');
    assert.equal(kv.port, '5432');
    assert.equal(kv.sslmode, 'verify-full');
    assert.equal(kv.sslrootcert, '/var/lib/barman/.postgresql/root.crt');
  }
});

void test('retention policies are written in barman canonical form; junk is refused', () => {
  assert.equal(canonicalRetention('redundancy  3'), 'REDUNDANCY 3');
  assert.equal(canonicalRetention('Recovery Window of 2 weeks'), 'RECOVERY WINDOW OF 2 WEEKS');
  assert.throws(() => canonicalRetention('keep forever'));
});

void test('reserved barman section names are refused as server names', () => {
  assert.throws(() => renderServerConf({ ...input, server: 'barman' }), /reserves/);
  assert.throws(() => renderServerConf({ ...input, server: 'all' }), /reserves/);
});

void test('.pgpass: both barman roles, escaped, one line each', () => {
  const text = renderBarmanPgpass('a:b\\c');
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(lines, [
    '*:5432:postgres:barman:a\\:b\\\\c',
    '*:5432:replication:streaming_barman:a\\:b\\\\c',
  ]);
});

void test('cron file: one scheduled backup per server, as barman, with a valid schedule', () => {
  const text = renderCronFile('0  2 * * *', ['main', 'reports']);
  const jobs = text.split('\n').filter((l) => l && !l.startsWith('#') && !l.includes('='));
  assert.equal(jobs.length, 2);
  for (const [i, server] of ['main', 'reports'].entries()) {
    const fields = jobs[i]!.split(' ');
    const schedule = fields.slice(0, 5).join(' ');
    assert.equal(schedule, '0 2 * * *');
    assert.doesNotThrow(() => cronParser.parseExpression(schedule));
    assert.equal(fields[5], 'barman');
    assert.ok(jobs[i]!.endsWith(`/usr/bin/barman -q backup ${server}`));
  }
  // cron.d files must end with a newline or cron ignores the last line
  assert.ok(text.endsWith('\n'));
});

void test('cron file with no servers schedules nothing', () => {
  const text = renderCronFile('0 2 * * *', []);
  assert.doesNotMatch(text, /barman -q backup/);
});
