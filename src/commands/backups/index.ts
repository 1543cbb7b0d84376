/**
 * `tpa backups DIR [--cluster C]`: every backup barman keeps, per cluster: id, begin and end
 * time, size, WAL range and status, read from `barman -f json list-backups/show-backup`.
 */
import type { EventSink } from '../../core/events.ts';
import { backupTargets, serverBackups } from '../backup/barman-client.ts';
import { connectCluster } from '../../clusterdir/connect.ts';

export interface BackupRow {
  id: string;
  status: string;
  beginTime?: string;
  endTime?: string;
  beginEpoch?: number;
  endEpoch?: number;
  /** base backup plus the WAL needed to make it consistent */
  sizeBytes?: number;
  /** WAL archived after the backup, up to the next one */
  walSizeBytes?: number;
  timeline?: number;
  /** first WAL file the backup needs .. the last WAL file archived for it */
  walBegin?: string;
  walEnd?: string;
  retention?: string;
  error?: string;
}

export interface ClusterBackups {
  cluster: string;
  server: string;
  backups: BackupRow[];
}

export interface BackupsReport {
  clusters: ClusterBackups[];
}

export async function listBackups(req: {
  dir: string;
  cluster?: string;
  events?: EventSink;
}): Promise<BackupsReport> {
  const access = await connectCluster(req.dir, req.events ? { events: req.events } : {});
  try {
    const targets = backupTargets(access, req.cluster);
    const clusters = await Promise.all(
      targets.map(async (t): Promise<ClusterBackups> => {
        const { summaries, details } = await serverBackups(access.pool.forHost(t.host.name), t.cluster.name);
        const rows = summaries.map((s): BackupRow => {
          const d = details.find((x) => x.id === s.id);
          const begin = d?.beginEpoch;
          return {
            id: s.id,
            status: s.status,
            ...(d?.beginTime !== undefined ? { beginTime: d.beginTime } : {}),
            ...(d?.endTime !== undefined ? { endTime: d.endTime } : {}),
            ...(begin !== undefined ? { beginEpoch: begin } : {}),
            ...((d?.endEpoch ?? s.endEpoch) !== undefined ? { endEpoch: d?.endEpoch ?? s.endEpoch } : {}),
            ...(s.sizeBytes !== undefined ? { sizeBytes: s.sizeBytes } : {}),
            ...(s.walSizeBytes !== undefined ? { walSizeBytes: s.walSizeBytes } : {}),
            ...(d?.timeline !== undefined ? { timeline: d.timeline } : {}),
            ...(d?.beginWal !== undefined ? { walBegin: d.beginWal } : {}),
            ...((d?.lastAvailableWal ?? d?.endWal) !== undefined
              ? { walEnd: d?.lastAvailableWal ?? d?.endWal }
              : {}),
            ...(d?.retentionStatus !== undefined ? { retention: d.retentionStatus } : {}),
            ...(d?.error !== undefined ? { error: d.error } : {}),
          };
        });
        // oldest first, as a timeline reads
        rows.sort((a, b) => a.id.localeCompare(b.id));
        return { cluster: t.cluster.name, server: t.host.name, backups: rows };
      }),
    );
    return { clusters };
  } finally {
    await access.close();
  }
}
