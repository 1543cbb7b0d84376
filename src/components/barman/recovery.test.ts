import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackupDetail } from './output.ts';
import {
  describeRange,
  formatLsn,
  parseLsn,
  parseTargetTime,
  pgTimestamp,
  planRecovery,
  TargetSyntaxError,
  walEndLsn,
  type RecoverableRange,
} from './recovery.ts';

const at = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);

function backup(id: string, endIso: string, endLsn: string, status = 'DONE'): BackupDetail {
  return { id, status, endEpoch: at(endIso), beginEpoch: at(endIso) - 10, endLsn, endTime: endIso };
}

const range: RecoverableRange = {
  backups: [
    backup('B2', '2024-05-10T10:00:00Z', '0/5000060'),
    backup('B1', '2024-05-10T08:00:00Z', '0/3000100'),
    backup('BX', '2024-05-10T09:00:00Z', '0/4000000', 'FAILED'),
  ],
  lastWalEpoch: at('2024-05-10T12:00:00Z'),
  lastWal: '000000010000000000000009',
};

void test('times: with Z, an offset, or none (UTC); junk refused', () => {
  assert.equal(parseTargetTime('2024-05-10T09:30:00Z').toISOString(), '2024-05-10T09:30:00.000Z');
  assert.equal(parseTargetTime('2024-05-10 11:30:00+02').toISOString(), '2024-05-10T09:30:00.000Z');
  assert.equal(parseTargetTime('2024-05-10 11:30:00.25+0200').toISOString(), '2024-05-10T09:30:00.250Z');
  assert.equal(parseTargetTime('2024-05-10T09:30').toISOString(), '2024-05-10T09:30:00.000Z');
  for (const bad of ['yesterday', '10/05/2024 09:30', '2024-05-10', '2024-13-45T99:00:00Z']) {
    assert.throws(() => parseTargetTime(bad), TargetSyntaxError, bad);
  }
});

void test('LSNs parse, format and compare; a WAL file ends where the next begins', () => {
  assert.equal(parseLsn('0/3000028'), 0x3000028n);
  assert.equal(parseLsn('1/0'), 1n << 32n);
  assert.equal(formatLsn(0x10300002an), '1/300002A');
  assert.throws(() => parseLsn('3000028'), TargetSyntaxError);
  assert.equal(formatLsn(walEndLsn('000000010000000000000003')), '0/4000000');
  assert.equal(formatLsn(walEndLsn('0000000200000001000000FF')), '2/0');
  assert.equal(pgTimestamp(new Date('2024-05-10T09:30:00.5Z')), '2024-05-10 09:30:00.500+00:00');
});

void test('a time between two backups starts from the earlier one', () => {
  const p = planRecovery({ kind: 'time', time: new Date('2024-05-10T09:30:00Z') }, range);
  assert.ok(p.ok);
  assert.equal(p.backup.id, 'B1');
  assert.deepEqual(p.options, ['--target-time', '2024-05-10 09:30:00.000+00:00']);
  const later = planRecovery({ kind: 'time', time: new Date('2024-05-10T11:00:00Z') }, range);
  assert.ok(later.ok && later.backup.id === 'B2');
});

void test('times before the oldest backup ends or after the last WAL are refused, with the range', () => {
  for (const t of ['2024-05-10T07:00:00Z', '2024-05-10T08:00:00Z', '2024-05-10T12:00:01Z']) {
    const p = planRecovery({ kind: 'time', time: new Date(t) }, range);
    assert.equal(p.ok, false, t);
    if (!p.ok) {
      assert.match(p.range, /from 2024-05-10T08:00:00\.000Z \(end of backup B1/);
      assert.match(p.range, /to 2024-05-10T12:00:00\.000Z \(last archived WAL 000000010000000000000009/);
    }
  }
});

void test('LSN targets: inside the range from the right backup; outside refused', () => {
  const p = planRecovery({ kind: 'lsn', lsn: '0/4800000' }, range);
  assert.ok(p.ok && p.backup.id === 'B1');
  const q = planRecovery({ kind: 'lsn', lsn: '0/6000000' }, range);
  assert.ok(q.ok && q.backup.id === 'B2');
  assert.deepEqual(q.ok && q.options, ['--target-lsn', '0/6000000']);
  assert.equal(planRecovery({ kind: 'lsn', lsn: '0/2000000' }, range).ok, false);
  assert.equal(planRecovery({ kind: 'lsn', lsn: '0/A000000' }, range).ok, false);
});

void test('--backup ID restores that backup as it ended; an unknown or failed one is refused', () => {
  const p = planRecovery({ kind: 'backup', id: 'B1' }, range);
  assert.ok(p.ok && p.backup.id === 'B1');
  assert.deepEqual(p.ok && p.options, ['--target-immediate']);
  assert.equal(planRecovery({ kind: 'backup', id: 'BX' }, range).ok, false);
  assert.equal(planRecovery({ kind: 'backup', id: 'nope' }, range).ok, false);
});

void test('--latest: the newest backup and all WAL; no backups at all: refused', () => {
  const p = planRecovery({ kind: 'latest' }, range);
  assert.ok(p.ok && p.backup.id === 'B2' && p.options.length === 0);
  const none = planRecovery({ kind: 'latest' }, { ...range, backups: [] });
  assert.equal(none.ok, false);
  assert.equal(describeRange({ ...range, backups: [] }), 'no complete backup');
});
