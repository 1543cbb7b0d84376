/** Samples are real output of barman 3.4.0 (Debian 12) against PostgreSQL 15. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BarmanOutputError,
  lastArchivedWal,
  parseCheckJson,
  parseListBackupsJson,
  parseShowBackupJson,
  parseXlogDb,
  walTimeline,
} from './output.ts';

const CHECK = `{"loc": {"archiver_errors": {"hint": "", "status": "OK"}, "backup_maximum_age": {"hint": "no last_backup_maximum_age provided", "status": "OK"}, "minimum_redundancy_requirements": {"hint": "have 0 backups, expected at least 1", "status": "FAILED"}, "receive_wal_running": {"hint": "", "status": "OK"}, "replication_slot": {"hint": "", "status": "OK"}}}`;

const LIST = `{"loc": [{"backup_id": "20261122T162750", "end_time": "Sun Nov 22 16:27:56 2026", "end_time_timestamp": "1795364876", "retention_status": "-", "size": "38.2 MiB", "size_bytes": 40091988, "status": "DONE", "tablespaces": [], "wal_size": "0 B", "wal_size_bytes": 0}, {"backup_id": "20261122T170000", "status": "FAILED"}]}`;

const SHOW = `{"loc": {"backup_id": "20261122T162750", "base_backup_information": {"analysis_time": "less than one second", "analysis_time_seconds": 0, "begin_lsn": "0/3000028", "begin_offset": 40, "begin_time": "2026-11-22 16:27:50.375971+00:00", "begin_time_timestamp": "1795364870", "begin_wal": "000000010000000000000003", "copy_time": "5 seconds", "copy_time_seconds": 5.655898, "disk_usage": "22.2 MiB", "disk_usage_bytes": 23314772, "disk_usage_with_wals": "38.2 MiB", "disk_usage_with_wals_bytes": 40091988, "end_lsn": "0/4000000", "end_offset": 0, "end_time": "2026-11-22 16:27:56.118433+00:00", "end_time_timestamp": "1795364876", "end_wal": "000000010000000000000003", "incremental_size": "22.2 MiB", "incremental_size_bytes": 23314772, "incremental_size_ratio": "-0.00%", "number_of_workers": 1, "throughput": "3.9 MiB/s", "throughput_bytes": 4122205.174138572, "timeline": 1}, "catalog_information": {"next_backup": "- (this is the latest base backup)", "previous_backup": "- (this is the oldest base backup)", "retention_policy": "VALID"}, "pgdata_directory": "/var/lib/postgresql/15/main", "postgresql_version": 150020, "status": "DONE", "tablespaces": [], "wal_information": {"compression_ratio": 0, "disk_usage": "0 B", "disk_usage_bytes": 0, "last_available": "000000010000000000000003", "no_of_files": 0, "timelines": [], "wal_rate": 0, "wal_rate_per_second": 0}}}`;

void test('check: every check with its status and hint', () => {
  const checks = parseCheckJson(CHECK, 'loc');
  assert.equal(checks.length, 5);
  const failed = checks.filter((c) => !c.ok);
  assert.deepEqual(failed, [
    { name: 'minimum_redundancy_requirements', ok: false, hint: 'have 0 backups, expected at least 1' },
  ]);
});

void test('check: another server than asked for is an error, not an empty pass', () => {
  assert.throws(() => parseCheckJson(CHECK, 'other'), BarmanOutputError);
});

void test("barman's own errors and non-JSON output are errors", () => {
  assert.throws(() => parseCheckJson(`{"_ERROR": ["Unknown server 'x'"]}`, 'x'), /Unknown server 'x'/);
  assert.throws(() => parseListBackupsJson('Traceback (most recent call last):', 'x'), /not JSON/);
});

void test('list-backups: complete and failed backups', () => {
  const list = parseListBackupsJson(LIST, 'loc');
  assert.deepEqual(list, [
    {
      id: '20261122T162750',
      status: 'DONE',
      endEpoch: 1795364876,
      sizeBytes: 40091988,
      walSizeBytes: 0,
      retentionStatus: '-',
    },
    { id: '20261122T170000', status: 'FAILED' },
  ]);
});

void test('show-backup: times, WAL range, LSNs, timeline, sizes', () => {
  const d = parseShowBackupJson(SHOW, 'loc');
  assert.equal(d.id, '20261122T162750');
  assert.equal(d.status, 'DONE');
  assert.equal(d.beginEpoch, 1795364870);
  assert.equal(d.endEpoch, 1795364876);
  assert.equal(new Date(d.endTime!.replace(' ', 'T')).getTime(), 1795364876118);
  assert.equal(d.beginWal, '000000010000000000000003');
  assert.equal(d.endWal, '000000010000000000000003');
  assert.equal(d.lastAvailableWal, '000000010000000000000003');
  assert.equal(d.beginLsn, '0/3000028');
  assert.equal(d.endLsn, '0/4000000');
  assert.equal(d.timeline, 1);
  assert.equal(d.sizeBytes, 23314772);
  assert.equal(d.pgVersion, 150020);
  assert.equal(d.retentionStatus, 'VALID');
});

void test('show-backup of a failed backup has no times', () => {
  const d = parseShowBackupJson(`{"x": {"backup_id": "1", "status": "FAILED", "error": "failure"}}`, 'x');
  assert.deepEqual(d, { id: '1', status: 'FAILED', error: 'failure' });
});

void test('xlog.db: segments only, the newest by name, its timeline', () => {
  const db = [
    '000000010000000000000003\t16777216\t1795364871.760992\tNone',
    '00000002.history\t42\t1795364900.1\tNone',
    '000000020000000000000004\t16777216\t1795364950.5\tNone',
    '000000010000000000000004.partial\t16777216\t1795364940\tNone',
    '',
  ].join('\n');
  const wals = parseXlogDb(db);
  assert.deepEqual(
    wals.map((w) => w.name),
    ['000000010000000000000003', '000000020000000000000004'],
  );
  const last = lastArchivedWal(wals)!;
  assert.equal(last.name, '000000020000000000000004');
  assert.equal(last.epoch, 1795364950.5);
  assert.equal(walTimeline(last.name), 2);
  assert.equal(lastArchivedWal([]), undefined);
});
