/**
 * barman's machine-readable output (`barman -f json ...`, barman 3.4 as Debian 12 ships it)
 * and its WAL catalogue (wals/xlog.db), parsed into plain data. Pure.
 */
import { z } from 'zod';

export class BarmanOutputError extends Error {}

/** barman -f json prints one JSON object; errors come as {"_ERROR": [...]} */
function parseJson(stdout: string, what: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(stdout.trim() || 'null');
  } catch {
    throw new BarmanOutputError(`barman ${what}: not JSON: ${stdout.trim().slice(0, 200)}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new BarmanOutputError(`barman ${what}: expected a JSON object`);
  }
  const obj = data as Record<string, unknown>;
  const errors = obj._ERROR;
  if (Array.isArray(errors) && errors.length > 0) {
    throw new BarmanOutputError(`barman ${what}: ${errors.map(String).join('; ')}`);
  }
  return obj;
}

function serverPart(obj: Record<string, unknown>, server: string, what: string): unknown {
  if (!(server in obj)) throw new BarmanOutputError(`barman ${what}: no entry for server ${server}`);
  return obj[server];
}

// ---------------------------------------------------------------------------------------
// barman check

export interface BarmanCheck {
  /** barman's key, e.g. receive_wal_running */
  name: string;
  ok: boolean;
  hint: string;
}

const CheckSchema = z.record(z.string(), z.object({ status: z.string(), hint: z.string().default('') }));

export function parseCheckJson(stdout: string, server: string): BarmanCheck[] {
  const part = CheckSchema.parse(serverPart(parseJson(stdout, 'check'), server, 'check'));
  return Object.entries(part).map(([name, v]) => ({ name, ok: v.status === 'OK', hint: v.hint }));
}

// ---------------------------------------------------------------------------------------
// barman list-backups / show-backup

const intString = z.union([z.string(), z.number()]).transform((v) => Number(v));

const ListEntry = z.object({
  backup_id: z.string(),
  status: z.string(),
  end_time_timestamp: intString.optional(),
  size_bytes: z.number().optional(),
  wal_size_bytes: z.number().optional(),
  retention_status: z.string().optional(),
});

export interface BackupSummary {
  id: string;
  status: string;
  /** epoch seconds; absent for a backup that did not complete */
  endEpoch?: number;
  /** base backup plus the WAL it needs */
  sizeBytes?: number;
  /** WAL archived after this backup, up to the next one */
  walSizeBytes?: number;
  retentionStatus?: string;
}

export function parseListBackupsJson(stdout: string, server: string): BackupSummary[] {
  const list = z
    .array(ListEntry)
    .parse(serverPart(parseJson(stdout, 'list-backups'), server, 'list-backups'));
  return list.map((e) => ({
    id: e.backup_id,
    status: e.status,
    ...(e.end_time_timestamp !== undefined ? { endEpoch: e.end_time_timestamp } : {}),
    ...(e.size_bytes !== undefined ? { sizeBytes: e.size_bytes } : {}),
    ...(e.wal_size_bytes !== undefined ? { walSizeBytes: e.wal_size_bytes } : {}),
    ...(e.retention_status !== undefined ? { retentionStatus: e.retention_status } : {}),
  }));
}

const ShowSchema = z.object({
  backup_id: z.string(),
  status: z.string(),
  error: z.string().optional(),
  postgresql_version: z.number().optional(),
  base_backup_information: z
    .object({
      begin_time: z.string(),
      begin_time_timestamp: intString,
      end_time: z.string(),
      end_time_timestamp: intString,
      begin_wal: z.string(),
      end_wal: z.string(),
      begin_lsn: z.string(),
      end_lsn: z.string(),
      timeline: z.number(),
      disk_usage_bytes: z.number(),
      disk_usage_with_wals_bytes: z.number(),
    })
    .optional(),
  wal_information: z.object({ last_available: z.string().nullable().optional() }).optional(),
  catalog_information: z.object({ retention_policy: z.string().optional() }).optional(),
});

export interface BackupDetail {
  id: string;
  status: string;
  error?: string;
  /** e.g. 150020 */
  pgVersion?: number;
  /** ISO 8601 (barman's isoformat with a space: kept as it prints, with its offset) */
  beginTime?: string;
  endTime?: string;
  beginEpoch?: number;
  endEpoch?: number;
  beginWal?: string;
  endWal?: string;
  beginLsn?: string;
  endLsn?: string;
  timeline?: number;
  sizeBytes?: number;
  sizeWithWalsBytes?: number;
  /** the last WAL file archived that this backup can replay up to (its WAL range's end) */
  lastAvailableWal?: string;
  retentionStatus?: string;
}

export function parseShowBackupJson(stdout: string, server: string): BackupDetail {
  const s = ShowSchema.parse(serverPart(parseJson(stdout, 'show-backup'), server, 'show-backup'));
  const b = s.base_backup_information;
  const last = s.wal_information?.last_available;
  return {
    id: s.backup_id,
    status: s.status,
    ...(s.error !== undefined ? { error: s.error } : {}),
    ...(s.postgresql_version !== undefined ? { pgVersion: s.postgresql_version } : {}),
    ...(b
      ? {
          beginTime: b.begin_time,
          endTime: b.end_time,
          beginEpoch: b.begin_time_timestamp,
          endEpoch: b.end_time_timestamp,
          beginWal: b.begin_wal,
          endWal: b.end_wal,
          beginLsn: b.begin_lsn,
          endLsn: b.end_lsn,
          timeline: b.timeline,
          sizeBytes: b.disk_usage_bytes,
          sizeWithWalsBytes: b.disk_usage_with_wals_bytes,
        }
      : {}),
    ...(last ? { lastAvailableWal: last } : {}),
    ...(s.catalog_information?.retention_policy !== undefined
      ? { retentionStatus: s.catalog_information.retention_policy }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------
// wals/xlog.db: name \t size \t epoch (arrival at barman) \t compression

export interface ArchivedWal {
  name: string;
  size: number;
  /** when barman archived it (epoch seconds, fractional) */
  epoch: number;
}

export const WAL_NAME = /^[0-9A-F]{24}$/;

/** segment files only (history and backup-label files are in the catalogue too) */
export function parseXlogDb(text: string): ArchivedWal[] {
  const out: ArchivedWal[] = [];
  for (const line of text.split('\n')) {
    const [name, size, epoch] = line.split('\t');
    if (!name || !WAL_NAME.test(name) || size === undefined || epoch === undefined) continue;
    out.push({ name, size: Number(size), epoch: Number(epoch) });
  }
  return out;
}

/** the newest archived segment, by name (timeline, then position) */
export function lastArchivedWal(wals: ArchivedWal[]): ArchivedWal | undefined {
  return wals.reduce<ArchivedWal | undefined>(
    (best, w) => (!best || w.name > best.name ? w : best),
    undefined,
  );
}

export function walTimeline(name: string): number {
  return parseInt(name.slice(0, 8), 16);
}
