import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config, otherCluster } from '../testdata/fixtures.ts';
import { found } from '../testdata/check.ts';
import { backupRetention, backupSchedule, backupServers } from './backup.ts';

void test('backupSchedule and backupRetention', () => {
  assert.deepEqual(found(backupSchedule, config()), []);
  assert.deepEqual(found(backupRetention, config()), []);
  const bad = config((c) => {
    c.backup = { mode: 'shared', schedule: '0 2 * * * *', retention: 'KEEP 7' };
  });
  assert.deepEqual(found(backupSchedule, bad), [
    'error backup.schedule: "0 2 * * * *" has 6 fields; a schedule has 5 (minute hour day month weekday)',
  ]);
  assert.deepEqual(found(backupRetention, bad), [
    'error backup.retention: "KEEP 7" is not a barman retention policy',
  ]);
});

void test('backupServers: backups on need a barman service', () => {
  assert.deepEqual(found(backupServers, config()), []);
  const none = config((c) => {
    c.services = [];
  });
  assert.deepEqual(found(backupServers, none), [
    'error services: backup.mode is shared but there is no barman service',
  ]);
});

void test('backupServers: backup_server must name a barman service; several need a choice', () => {
  const unknown = config((c) => {
    c.clusters[0]!.backup_server = 'backup-9';
  });
  assert.deepEqual(found(backupServers, unknown), [
    'error clusters.0.backup_server: "backup-9" is not a barman service',
  ]);
  const ambiguous = config((c) => {
    c.services.push({ name: 'backup-2', role: 'barman' });
  });
  assert.deepEqual(found(backupServers, ambiguous), [
    'error clusters.0.backup_server: cluster "main" must say which barman service backs it up (there are 2)',
  ]);
  const unused = config((c) => {
    c.services.push({ name: 'backup-2', role: 'barman' });
    c.clusters[0]!.backup_server = 'backup-1';
  });
  assert.deepEqual(found(backupServers, unused), [
    'warning services.1: barman service "backup-2" backs up no cluster',
  ]);
  const shared = config((c) => {
    c.clusters.push(otherCluster());
  });
  assert.deepEqual(found(backupServers, shared), []);
});

void test('backupServers: exclusive means one barman per cluster', () => {
  const twoOnOne = config((c) => {
    c.backup = { mode: 'exclusive' };
    c.clusters.push(otherCluster());
  });
  assert.deepEqual(found(backupServers, twoOnOne), [
    'error clusters.1.backup_server: barman service "backup-1" already backs up cluster "main"; exclusive backups give each cluster its own',
  ]);
  const idle = config((c) => {
    c.backup = { mode: 'exclusive' };
    c.services.push({ name: 'backup-2', role: 'barman' });
    c.clusters[0]!.backup_server = 'backup-1';
  });
  assert.deepEqual(found(backupServers, idle), [
    'error services.1: barman service "backup-2" backs up no cluster; with exclusive backups each barman serves exactly one',
  ]);
  const ok = config((c) => {
    c.backup = { mode: 'exclusive' };
    c.services.push({ name: 'backup-2', role: 'barman' });
    c.clusters[0]!.backup_server = 'backup-1';
    c.clusters.push({ ...otherCluster(), backup_server: 'backup-2' });
  });
  assert.deepEqual(found(backupServers, ok), []);
});

void test('backupServers: mode none is a warning, and leftovers are pointed out', () => {
  const off = config((c) => {
    c.backup = { mode: 'none' };
    c.clusters[0]!.backup_server = 'backup-1';
  });
  assert.deepEqual(found(backupServers, off), [
    'warning backup.mode: backups are off: a lost cluster cannot be restored',
    'warning clusters.0.backup_server: backup_server is ignored while backup.mode is none',
    'warning services.0: barman service "backup-1" is unused while backup.mode is none',
  ]);
});

void test('backupServers: a cluster with backups: false needs no barman, even exclusive or ambiguous', () => {
  const scratch = {
    name: 'scratch',
    backups: false,
    nodes: [{ name: 'scratch-1', role: 'primary' as const }],
  };
  const exclusive = config((c) => {
    c.backup = { mode: 'exclusive' };
    c.clusters.push(scratch);
  });
  assert.deepEqual(found(backupServers, exclusive), []);
  const ambiguous = config((c) => {
    c.services.push({ name: 'backup-2', role: 'barman' });
    c.clusters[0]!.backup_server = 'backup-1';
    c.clusters.push({ ...otherCluster(), backup_server: 'backup-2' });
    c.clusters.push({ ...scratch, backup_server: 'backup-9' });
  });
  assert.deepEqual(found(backupServers, ambiguous), [
    'warning clusters.2.backup_server: backup_server is ignored with backups: false',
  ]);
});
