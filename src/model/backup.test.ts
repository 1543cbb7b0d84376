import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupServerOf, isBackedUp, cronProblem, parseRetention } from './backup.ts';
import { config } from './testdata/fixtures.ts';

void test('barman retention policies', () => {
  assert.deepEqual(parseRetention('RECOVERY WINDOW OF 7 DAYS'), {
    kind: 'recovery-window',
    count: 7,
    unit: 'DAYS',
  });
  assert.deepEqual(parseRetention('recovery window of 2 weeks'), {
    kind: 'recovery-window',
    count: 2,
    unit: 'WEEKS',
  });
  assert.deepEqual(parseRetention('RECOVERY WINDOW OF 3 MONTHS'), {
    kind: 'recovery-window',
    count: 3,
    unit: 'MONTHS',
  });
  assert.deepEqual(parseRetention('REDUNDANCY 3'), { kind: 'redundancy', count: 3 });
  for (const bad of [
    '7 days',
    'RECOVERY WINDOW OF 0 DAYS',
    'RECOVERY WINDOW OF 7 YEARS',
    'REDUNDANCY',
    'REDUNDANCY -1',
    '',
  ]) {
    assert.equal(parseRetention(bad), undefined, bad);
  }
});

void test('schedules are 5-field cron expressions', () => {
  for (const ok of ['0 2 * * *', '*/15 * * * *', '30 1 * * 0', '0 3 1 * *'])
    assert.equal(cronProblem(ok), undefined, ok);
  assert.match(cronProblem('0 2 * *') ?? '', /4 fields/);
  assert.match(cronProblem('0 0 2 * * *') ?? '', /6 fields/);
  assert.match(cronProblem('@daily') ?? '', /1 field;/);
  assert.match(cronProblem('61 2 * * *') ?? '', /not a valid cron/);
  assert.match(cronProblem('a b c d e') ?? '', /not a valid cron/);
});

void test('backupServerOf: explicit, the only one, or none', () => {
  const one = config();
  assert.equal(backupServerOf(one, one.clusters[0]!), 'backup-1');
  const off = config((c) => {
    c.backup = { mode: 'none' };
  });
  assert.equal(backupServerOf(off, off.clusters[0]!), undefined);
  const two = config((c) => {
    c.services.push({ name: 'backup-2', role: 'barman' });
  });
  assert.equal(backupServerOf(two, two.clusters[0]!), undefined);
  const named = config((c) => {
    c.services.push({ name: 'backup-2', role: 'barman' });
    c.clusters[0]!.backup_server = 'backup-2';
  });
  assert.equal(backupServerOf(named, named.clusters[0]!), 'backup-2');
});

void test('backupServerOf: a cluster with backups: false has none', () => {
  const c = config((x) => {
    x.clusters.push({ name: 'scratch', backups: false, nodes: [{ name: 'scratch-1', role: 'primary' }] });
  });
  assert.equal(isBackedUp(c, c.clusters[0]!), true);
  assert.equal(isBackedUp(c, c.clusters[1]!), false);
  assert.equal(backupServerOf(c, c.clusters[0]!), 'backup-1');
  assert.equal(backupServerOf(c, c.clusters[1]!), undefined);
});
