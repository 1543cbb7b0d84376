/**
 * `tpa backup DIR [--cluster C]`: a full backup now, for one cluster or every cluster with
 * backups, each on its own barman host, waiting until the WAL the backup needs is archived
 * (so a backup reported as taken can be restored).
 */
import { OperationError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import type { BackupDetail } from '../../components/barman/output.ts';
import { backupTargets, barmanJson, parsed, serverBackups, type BackupTarget } from './barman-client.ts';
import { connectCluster, type ClusterAccess } from '../../clusterdir/connect.ts';

export interface BackupRequest {
  dir: string;
  cluster?: string;
  events?: EventSink;
  /** default 6 hours */
  timeoutMs?: number;
}

export interface TakenBackup {
  cluster: string;
  server: string;
  backup: BackupDetail;
  durationMs: number;
}

export interface BackupReport {
  ok: true;
  backups: TakenBackup[];
  durationMs: number;
}

function backupIdOf(stdout: string, host: string, step: string): string {
  return parsed(host, step, () => {
    const data = JSON.parse(stdout.trim()) as { backup_id?: unknown; status?: unknown };
    if (typeof data.backup_id !== 'string') throw new Error('no backup_id in the output of barman backup');
    return data.backup_id;
  });
}

async function backupOne(access: ClusterAccess, t: BackupTarget, req: BackupRequest): Promise<TakenBackup> {
  const started = Date.now();
  const server = t.cluster.name;
  const step = `barman backup ${server}`;
  const transport = access.pool.forHost(t.host.name);
  req.events?.({
    kind: 'task',
    host: t.host.name,
    task: `backup of cluster ${server}`,
    status: 'changed',
    detail: 'started',
  });
  const out = await barmanJson(transport, ['backup', '--wait', server], {
    step,
    timeoutMs: req.timeoutMs ?? 6 * 60 * 60_000,
  });
  const id = backupIdOf(out, t.host.name, step);
  const detail = (await serverBackups(transport, server, step)).details.find((d) => d.id === id);
  if (!detail || detail.status !== 'DONE') {
    throw new OperationError(
      `backup ${id} of cluster ${server} ended with status ${detail?.status ?? 'unknown'}${detail?.error ? `: ${detail.error}` : ''}`,
      { host: t.host.name, step, hint: 'barman check on the backup server (tpa test) shows what is wrong' },
    );
  }
  req.events?.({
    kind: 'task',
    host: t.host.name,
    task: `backup of cluster ${server}`,
    status: 'ok',
    detail: `${id} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  });
  return { cluster: server, server: t.host.name, backup: detail, durationMs: Date.now() - started };
}

export async function backup(req: BackupRequest): Promise<BackupReport> {
  const started = Date.now();
  const access = await connectCluster(req.dir, req.events ? { events: req.events } : {});
  try {
    const targets = backupTargets(access, req.cluster);
    // several clusters on one shared host: one after the other, as barman's schedule would
    const byHost = new Map<string, BackupTarget[]>();
    for (const t of targets) byHost.set(t.host.name, [...(byHost.get(t.host.name) ?? []), t]);
    const results = await Promise.allSettled(
      [...byHost.values()].map(async (list) => {
        const done: TakenBackup[] = [];
        for (const t of list) done.push(await backupOne(access, t, req));
        return done;
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const backups = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    return { ok: true, backups, durationMs: Date.now() - started };
  } finally {
    await access.close();
  }
}
