import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  effectiveCacheSizeMb,
  formatKb,
  formatMb,
  maintenanceWorkMemMb,
  maxSlotWalKeepSizeMb,
  maxWalSenders,
  maxWalSizeMb,
  minWalSizeMb,
  parallelPerGather,
  sharedBuffersMb,
  tunedSettings,
  walKeepSizeMb,
  workMemKb,
} from './tuning.ts';

void test('units: the largest unit that states the value exactly', () => {
  assert.equal(formatMb(256), '256MB');
  assert.equal(formatMb(1024), '1GB');
  assert.equal(formatMb(1536), '1536MB');
  assert.equal(formatKb(4096), '4MB');
  assert.equal(formatKb(2621), '2621kB');
  assert.equal(formatKb(16 * 1024 * 1024), '16GB');
});

void test('shared_buffers is a quarter of RAM, effective_cache_size three quarters', () => {
  assert.equal(sharedBuffersMb(1024), 256);
  assert.equal(sharedBuffersMb(16384), 4096);
  assert.equal(sharedBuffersMb(64), 32, 'at least 32MB');
  assert.equal(effectiveCacheSizeMb(4096), 3072);
});

void test('work_mem: (RAM - shared_buffers) / (3 x max_connections), clamped to 4MB..256MB', () => {
  // 16GB, 100 connections: (16384 - 4096) MB / 300 = 41.9 MB
  assert.equal(workMemKb(16384, 100), Math.floor((12288 * 1024) / 300));
  // 1GB: 768MB / 300 = 2.6MB -> PostgreSQL's 4MB floor
  assert.equal(workMemKb(1024, 100), 4096);
  // 512GB, 20 connections: would be GBs -> 256MB cap
  assert.equal(workMemKb(512 * 1024, 20), 256 * 1024);
  // more connections, less per query
  assert.ok(workMemKb(32768, 400) < workMemKb(32768, 100));
});

void test('maintenance_work_mem: 5% of RAM within 64MB..1GB', () => {
  assert.equal(maintenanceWorkMemMb(1024), 64);
  assert.equal(maintenanceWorkMemMb(8192), 409);
  assert.equal(maintenanceWorkMemMb(65536), 1024);
});

void test('WAL sizes follow the data volume', () => {
  assert.equal(maxWalSizeMb(20), 2048);
  assert.equal(maxWalSizeMb(5), 1024, 'at least 1GB');
  assert.equal(maxWalSizeMb(1000), 16384, 'at most 16GB');
  assert.equal(minWalSizeMb(20), 512);
  assert.equal(minWalSizeMb(1), 256);
  assert.equal(walKeepSizeMb(20), 1024);
  assert.equal(walKeepSizeMb(2), 256);
  assert.equal(walKeepSizeMb(1000), 4096);
  assert.equal(maxSlotWalKeepSizeMb(20), 5120);
  // WAL kept for checkpoints and standbys leaves most of the disk for data
  for (const gb of [5, 20, 100, 1000]) {
    assert.ok(maxWalSizeMb(gb) + walKeepSizeMb(gb) < gb * 1024 * 0.5 || gb < 10, `${gb}GB`);
  }
});

void test('replication capacity and parallelism', () => {
  assert.equal(maxWalSenders(1), 10);
  assert.equal(maxWalSenders(3), 10);
  // 8 replicas cloned at once take 16 senders (measured: 15 refused the eighth clone)
  assert.equal(maxWalSenders(6), 14);
  assert.equal(maxWalSenders(9), 20);
  assert.equal(parallelPerGather(1), 0);
  assert.equal(parallelPerGather(2), 1);
  assert.equal(parallelPerGather(16), 4);
});

void test('tunedSettings: a small node and a large node', () => {
  const small = tunedSettings({
    memoryMb: 1024,
    cpus: 1,
    volumeGb: 20,
    clusterMaxCpus: 1,
    clusterSize: 3,
    maxConnections: 100,
  });
  assert.equal(small.shared_buffers, '256MB');
  assert.equal(small.effective_cache_size, '768MB');
  assert.equal(small.work_mem, '4MB');
  assert.equal(small.maintenance_work_mem, '64MB');
  assert.equal(small.max_wal_size, '2GB');
  assert.equal(small.max_worker_processes, 8);
  assert.equal(small.max_parallel_workers_per_gather, 0);

  const large = tunedSettings({
    memoryMb: 32768,
    cpus: 8,
    volumeGb: 500,
    clusterMaxCpus: 16,
    clusterSize: 3,
    maxConnections: 200,
  });
  assert.equal(large.shared_buffers, '8GB');
  assert.equal(large.effective_cache_size, '24GB');
  assert.equal(large.maintenance_work_mem, '1GB');
  assert.equal(large.max_connections, 200);
  // the largest node of the cluster decides: a standby may not have fewer worker processes
  assert.equal(large.max_worker_processes, 16);
  assert.equal(large.max_parallel_workers, 8);
  assert.equal(large.max_wal_size, '16GB');
});
