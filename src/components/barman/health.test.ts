import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BACKUP_GRACE_MS,
  healthScript,
  judgeBackupRecent,
  judgeBarmanCheck,
  judgeServer,
  judgeWalArchiving,
  maxBackupAgeMs,
  splitSections,
} from './health.ts';
import { shellProblems } from '../../../test/support/repmgr-fixtures.ts';

const H = 3_600_000;

void test('daily schedule: a backup may be a day plus the grace old', () => {
  const now = new Date('2024-05-10T12:00:00Z');
  assert.equal(maxBackupAgeMs('0 2 * * *', now), 24 * H + BACKUP_GRACE_MS);
  assert.equal(maxBackupAgeMs('0 */6 * * *', now), 6 * H + BACKUP_GRACE_MS);
  assert.equal(maxBackupAgeMs('0 3 * * 0', now), 7 * 24 * H + BACKUP_GRACE_MS);
});

void test('backup-recent: passes young, fails old, fails with none or only failed backups', () => {
  const now = new Date('2024-05-10T12:00:00Z');
  const at = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);
  const young = { id: 'a', status: 'DONE', endEpoch: at('2024-05-10T02:10:00Z') };
  const old = { id: 'b', status: 'DONE', endEpoch: at('2024-05-08T02:10:00Z') };
  assert.equal(judgeBackupRecent([old, young], '0 2 * * *', now).status, 'pass');
  const r = judgeBackupRecent([old], '0 2 * * *', now);
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /newest backup b is 2\.4 days old/);
  assert.equal(judgeBackupRecent([], '0 2 * * *', now).status, 'fail');
  assert.equal(
    judgeBackupRecent([{ id: 'c', status: 'FAILED', endEpoch: at('2024-05-10T11:00:00Z') }], '0 2 * * *', now)
      .status,
    'fail',
  );
});

void test('barman-check: every check must be OK; the failed ones are named', () => {
  assert.equal(judgeBarmanCheck([{ name: 'a', ok: true, hint: '' }]).status, 'pass');
  const r = judgeBarmanCheck([
    { name: 'a', ok: true, hint: '' },
    { name: 'receive_wal_running', ok: false, hint: 'see log' },
  ]);
  assert.equal(r.status, 'fail');
  assert.equal(r.detail, 'receive wal running (see log)');
  assert.equal(judgeBarmanCheck([]).status, 'fail');
});

void test('wal-archiving: slot present, active and close, receive-wal running, cron archiving', () => {
  const ok = { slotActive: true, slotLagBytes: 100, pendingWals: 0, receiveWalRunning: true };
  assert.equal(judgeWalArchiving(ok).status, 'pass');
  assert.equal(judgeWalArchiving({ ...ok, slotActive: false }).status, 'fail');
  assert.equal(judgeWalArchiving({ pendingWals: 0 }).status, 'fail');
  assert.equal(judgeWalArchiving({ ...ok, slotLagBytes: 500 * 1024 * 1024 }).status, 'fail');
  assert.equal(judgeWalArchiving({ ...ok, pendingWals: 10 }).status, 'fail');
  assert.equal(judgeWalArchiving({ ...ok, receiveWalRunning: false }).status, 'fail');
  assert.equal(judgeWalArchiving({ ...ok, error: 'x' }).status, 'fail');
});

void test('the health script is valid shell and its sections split back', () => {
  assert.deepEqual(shellProblems(healthScript('main')), []);
  const s = splitSections('@@tpa-section check\n{}\n@@tpa-section pending\n3');
  assert.deepEqual(s, { check: '{}\n', pending: '3\n' });
});

void test('judgeServer: all from one output; garbage fails each check instead of throwing', () => {
  const now = new Date('2024-05-10T12:00:00Z');
  const end = Math.floor(new Date('2024-05-10T02:10:00Z').getTime() / 1000);
  const out = [
    '@@tpa-section check',
    '{"main": {"receive_wal_running": {"hint": "", "status": "OK"}, "postgresql": {"hint": "", "status": "OK"}}}',
    '@@tpa-section list',
    `{"main": [{"backup_id": "x", "status": "DONE", "end_time_timestamp": "${end}"}]}`,
    '@@tpa-section slot',
    't|2048',
    '@@tpa-section pending',
    '1',
  ].join('\n');
  assert.deepEqual(
    judgeServer('main', out, '0 2 * * *', now).map((r) => r.status),
    ['pass', 'pass', 'pass'],
  );
  const bad = judgeServer('main', 'Traceback\n', '0 2 * * *', now);
  assert.deepEqual(
    bad.map((r) => [r.check, r.status]),
    [
      ['barman-check', 'fail'],
      ['backup-recent', 'fail'],
      ['wal-archiving', 'fail'],
    ],
  );
  const noSlot = judgeServer('main', out.replace('t|2048', ''), '0 2 * * *', now);
  assert.match(noSlot[2]!.detail, /does not exist/);
  const psqlError = judgeServer(
    'main',
    out.replace('t|2048', 'psql: error: connection refused'),
    '0 2 * * *',
    now,
  );
  assert.match(psqlError[2]!.detail, /cannot read the slot.*connection refused/);
});
