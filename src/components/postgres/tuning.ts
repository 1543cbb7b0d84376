/**
 * postgresql.conf values derived from the machine. Pure. Each rule is written next to the
 * value it produces (and shown by `tuningRules()`), so "why is shared_buffers 512MB?" has an
 * answer in one place. Overrides from config.yml are applied later (settings.ts) and win.
 *
 * Rules
 *   max_connections            100 (override to change; work_mem follows it)
 *   shared_buffers             25% of RAM (at least 32MB)
 *   effective_cache_size       75% of RAM
 *   work_mem                   (RAM - shared_buffers) / (max_connections * 3), between 4MB and 256MB:
 *                              a query may use a few sort/hash nodes at once; below 4MB (PostgreSQL's
 *                              default) sorts spill to disk for little saved memory
 *   maintenance_work_mem       5% of RAM, between 64MB and 1GB (VACUUM uses at most 1GB)
 *   max_wal_size               10% of the data volume, between 1GB and 16GB
 *   min_wal_size               max_wal_size / 4, at least 80MB
 *   wal_keep_size              5% of the data volume, between 256MB and 4GB: lets a standby that fell
 *                              behind catch up by streaming instead of being re-cloned
 *   max_slot_wal_keep_size     25% of the data volume: a dead standby's slot cannot fill the disk
 *   max_wal_senders            max(10, 2 x replicas + 4): a first deploy clones every replica at
 *                              once, two senders per clone (pg_basebackup streams its WAL),
 *                              then barman's streaming and backup connections, and spares
 *   max_replication_slots      same as max_wal_senders
 *   max_worker_processes       max(8, CPUs); taken over the whole cluster, because a standby
 *                              refuses to start with less than its primary
 *   max_parallel_workers       max(2, CPUs)
 *   max_parallel_workers_per_gather, max_parallel_maintenance_workers
 *                              CPUs / 2, at most 4 (0 on one CPU: parallelism only adds overhead)
 *   random_page_cost 1.1, effective_io_concurrency 200: SSD or network block storage (every
 *                              platform tpa provisions); raise random_page_cost for spinning disks
 */

export type PgValue = string | number | boolean;

export interface TuningInput {
  /** this node */
  memoryMb: number;
  cpus: number;
  volumeGb: number;
  /** the largest CPU count of the cluster's nodes (hot-standby parameters must not shrink) */
  clusterMaxCpus: number;
  /** postgres nodes in the cluster */
  clusterSize: number;
  /** effective max_connections (after overrides) */
  maxConnections: number;
}

export const DEFAULT_MAX_CONNECTIONS = 100;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** '512MB', '1GB', '2621kB': the largest unit that states the value exactly. */
export function formatKb(kb: number): string {
  const n = Math.floor(kb);
  if (n % (1024 * 1024) === 0 && n > 0) return `${n / (1024 * 1024)}GB`;
  if (n % 1024 === 0 && n > 0) return `${n / 1024}MB`;
  return `${n}kB`;
}

export const formatMb = (mb: number): string => formatKb(Math.floor(mb) * 1024);

export function sharedBuffersMb(memoryMb: number): number {
  return Math.max(32, Math.floor(memoryMb * 0.25));
}

export function effectiveCacheSizeMb(memoryMb: number): number {
  return Math.floor(memoryMb * 0.75);
}

export function workMemKb(memoryMb: number, maxConnections: number): number {
  const freeKb = (memoryMb - sharedBuffersMb(memoryMb)) * 1024;
  return clamp(Math.floor(freeKb / (Math.max(1, maxConnections) * 3)), 4 * 1024, 256 * 1024);
}

export function maintenanceWorkMemMb(memoryMb: number): number {
  return clamp(Math.floor(memoryMb * 0.05), 64, 1024);
}

export function maxWalSizeMb(volumeGb: number): number {
  return clamp(Math.floor(volumeGb * 1024 * 0.1), 1024, 16 * 1024);
}

export function minWalSizeMb(volumeGb: number): number {
  return Math.max(80, Math.floor(maxWalSizeMb(volumeGb) / 4));
}

export function walKeepSizeMb(volumeGb: number): number {
  return clamp(Math.floor(volumeGb * 1024 * 0.05), 256, 4 * 1024);
}

export function maxSlotWalKeepSizeMb(volumeGb: number): number {
  return Math.max(1024, Math.floor(volumeGb * 1024 * 0.25));
}

export function maxWalSenders(clusterSize: number): number {
  return Math.max(10, 2 * (clusterSize - 1) + 4);
}

export function parallelPerGather(cpus: number): number {
  return clamp(Math.floor(cpus / 2), 0, 4);
}

/** The machine-derived settings of one node. */
export function tunedSettings(t: TuningInput): Record<string, PgValue> {
  const senders = maxWalSenders(t.clusterSize);
  return {
    max_connections: t.maxConnections,
    shared_buffers: formatMb(sharedBuffersMb(t.memoryMb)),
    effective_cache_size: formatMb(effectiveCacheSizeMb(t.memoryMb)),
    work_mem: formatKb(workMemKb(t.memoryMb, t.maxConnections)),
    maintenance_work_mem: formatMb(maintenanceWorkMemMb(t.memoryMb)),
    max_wal_size: formatMb(maxWalSizeMb(t.volumeGb)),
    min_wal_size: formatMb(minWalSizeMb(t.volumeGb)),
    wal_keep_size: formatMb(walKeepSizeMb(t.volumeGb)),
    max_slot_wal_keep_size: formatMb(maxSlotWalKeepSizeMb(t.volumeGb)),
    max_wal_senders: senders,
    max_replication_slots: senders,
    max_worker_processes: Math.max(8, t.clusterMaxCpus),
    max_parallel_workers: Math.max(2, t.cpus),
    max_parallel_workers_per_gather: parallelPerGather(t.cpus),
    max_parallel_maintenance_workers: parallelPerGather(t.cpus),
    random_page_cost: 1.1,
    effective_io_concurrency: 200,
  };
}
