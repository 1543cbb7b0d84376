/**
 * Backups as `tpa info` and `tpa status` show them: per cluster with backups, its backup
 * server, the schedule (cron, in words, next run) and retention as config.yml sets them, and
 * what the backup server has now: the retention and schedule it runs with, its backups, and
 * where those differ from config.yml (a change not deployed yet). One round trip per backup
 * host, all hosts at once; a host that does not answer is reported, not waited for.
 */
import { isTpaError } from '../../core/errors.ts';
import { canonicalRetention } from './conf.ts';
import { liveScript, parseLive, type LiveHost, type LiveServer } from './live.ts';
import { serverHome } from './paths.ts';
import { backupServerOf, parseRetention } from '../../model/backup.ts';
import { describeSchedule, durationText, nextRun, normalSchedule } from '../../model/schedule.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';
import type { Inventory } from '../../platforms/platform.ts';
import type { TransportPool } from '../../transport/pool.ts';
import { CommandTimeoutError } from '../../transport/transport.ts';

export interface BackupSchedule {
  /** the cron expression (UTC) */
  cron: string;
  /** in plain words, e.g. "daily at 02:00 UTC" */
  text: string;
  /** the next run, ISO 8601 (UTC) */
  next?: string;
}

export interface BackupRef {
  id: string;
  status: string;
  /** ISO 8601 (UTC) when it completed */
  endTime?: string;
  ageSeconds?: number;
}

export interface BackupServerNow {
  /** retention_policy barman reports (show-server), else the one in its server file */
  retention?: string;
  retentionSource?: 'barman show-server' | 'server file';
  /** the schedule of the cluster's line in the backup server's cron file */
  schedule?: string;
  /** complete backups */
  backups?: number;
  /** the newest backup, whatever its status */
  last?: BackupRef;
  /** the newest complete backup, when the newest is not complete */
  lastComplete?: BackupRef;
  /** backups barman's retention policy marks obsolete (barman cron deletes them) */
  obsolete?: number;
  /** what could not be read */
  errors?: string[];
}

export interface ClusterBackups {
  cluster: string;
  /** the backup server (a service of role barman); absent when none is provisioned */
  server?: string;
  mode: 'shared' | 'exclusive';
  schedule: BackupSchedule;
  /** as config.yml sets it, written as barman reads it */
  retention: string;
  /** what the backup server has now (absent when it did not answer) */
  now?: BackupServerNow;
  /** why the backup server did not answer */
  unreachable?: string;
  /** where the backup server differs from config.yml, each with what to do */
  differences: string[];
}

/** a server tpa configured on a backup host that no cluster in config.yml uses there any more */
export interface LeftoverServer {
  host: string;
  server: string;
  backups: number;
  /** where its backups and WAL stay */
  path: string;
}

export interface BackupOverview {
  clusters: ClusterBackups[];
  leftovers: LeftoverServer[];
}

function sameRetention(a: string, b: string): boolean {
  const x = parseRetention(a);
  const y = parseRetention(b);
  return x !== undefined && y !== undefined ? JSON.stringify(x) === JSON.stringify(y) : a.trim() === b.trim();
}

function canonical(text: string): string {
  try {
    return canonicalRetention(text);
  } catch {
    return text.trim();
  }
}

export function scheduleOf(cron: string, now: Date): BackupSchedule {
  const next = nextRun(cron, now);
  return {
    cron: normalSchedule(cron),
    text: describeSchedule(cron),
    ...(next ? { next: next.toISOString() } : {}),
  };
}

function ref(b: { id: string; status: string; endEpoch?: number }, now: Date): BackupRef {
  return {
    id: b.id,
    status: b.status,
    ...(b.endEpoch !== undefined
      ? {
          endTime: new Date(b.endEpoch * 1000).toISOString(),
          ageSeconds: Math.max(0, Math.round(now.getTime() / 1000 - b.endEpoch)),
        }
      : {}),
  };
}

function serverNow(live: LiveServer, now: Date): BackupServerNow {
  const out: BackupServerNow = {};
  if (live.barmanRetention !== undefined) {
    out.retention = live.barmanRetention;
    out.retentionSource = 'barman show-server';
  } else if (live.confRetention !== undefined) {
    out.retention = live.confRetention;
    out.retentionSource = 'server file';
  }
  if (live.cronSchedule !== undefined) out.schedule = live.cronSchedule;
  if (live.backups) {
    // ids are barman's timestamps (YYYYMMDDTHHMMSS): their order is time order
    const sorted = [...live.backups].sort((a, b) => b.id.localeCompare(a.id));
    const done = sorted.filter((b) => b.status === 'DONE');
    out.backups = done.length;
    if (sorted[0]) out.last = ref(sorted[0], now);
    if (sorted[0] && sorted[0].status !== 'DONE' && done[0]) out.lastComplete = ref(done[0], now);
    out.obsolete = live.backups.filter((b) => b.retentionStatus === 'OBSOLETE').length;
  }
  if (live.errors.length) out.errors = [...live.errors];
  return out;
}

function differences(c: ClusterBackups, live: LiveServer): string[] {
  const host = c.server!;
  const deploy = 'run tpa deploy';
  if (!live.configured) return [`${host} has no barman server ${c.cluster} yet: ${deploy}`];
  const out: string[] = [];
  const retention = c.now?.retention;
  if (retention !== undefined && !sameRetention(retention, c.retention)) {
    out.push(`retention: config.yml says ${c.retention}, ${host} has ${retention}: ${deploy}`);
  }
  if (live.cronSchedule === undefined) {
    out.push(`schedule: ${host} has no scheduled backup of ${c.cluster}: ${deploy}`);
  } else if (normalSchedule(live.cronSchedule) !== c.schedule.cron) {
    out.push(`schedule: config.yml says "${c.schedule.cron}", ${host} has "${live.cronSchedule}": ${deploy}`);
  }
  return out;
}

/** Pure: config + inventory + what each backup host answered (or why it did not). */
export function buildBackupOverview(
  config: ClusterGroupConfig,
  inventory: Inventory,
  answers: Record<string, LiveHost | { unreachable: string }>,
  now: Date,
): BackupOverview {
  if (config.backup.mode === 'none') {
    return { clusters: [], leftovers: leftovers(config, inventory, answers) };
  }
  const mode = config.backup.mode;
  const schedule = scheduleOf(config.backup.schedule, now);
  const clusters = config.clusters.map((cluster): ClusterBackups => {
    const name = backupServerOf(config, cluster);
    const host = inventory.hosts.find((h) => h.name === name && h.kind === 'barman');
    const c: ClusterBackups = {
      cluster: cluster.name,
      ...(host ? { server: host.name } : {}),
      mode,
      schedule,
      retention: canonical(config.backup.retention),
      differences: [],
    };
    if (!host) {
      c.differences.push(
        name === undefined
          ? 'no backup server is chosen for this cluster (backup_server in config.yml)'
          : `the backup server ${name} is not provisioned: run tpa provision, then tpa deploy`,
      );
      return c;
    }
    const answer = answers[host.name];
    if (!answer) return c;
    if ('unreachable' in answer) return { ...c, unreachable: answer.unreachable };
    const live = answer.servers.find((s) => s.server === cluster.name);
    if (!live) return c;
    c.now = serverNow(live, now);
    c.differences = differences(c, live);
    return c;
  });
  return { clusters, leftovers: leftovers(config, inventory, answers) };
}

function leftovers(
  config: ClusterGroupConfig,
  inventory: Inventory,
  answers: Record<string, LiveHost | { unreachable: string }>,
): LeftoverServer[] {
  const out: LeftoverServer[] = [];
  for (const [host, answer] of Object.entries(answers)) {
    if ('unreachable' in answer) continue;
    const served = servedBy(config, inventory, host);
    for (const m of answer.managed) {
      if (!served.includes(m.server))
        out.push({ host, server: m.server, backups: m.backups, path: serverHome(m.server) });
    }
  }
  return out;
}

function servedBy(config: ClusterGroupConfig, inventory: Inventory, host: string): string[] {
  if (!inventory.hosts.some((h) => h.name === host && h.kind === 'barman')) return [];
  return config.clusters.filter((c) => backupServerOf(config, c) === host).map((c) => c.name);
}

export interface OverviewAccess {
  config: ClusterGroupConfig;
  inventory: Inventory;
  pool: Pick<TransportPool, 'forHost'>;
}

/** Ask every backup host at once; showServer adds barman's own view (slower: it asks the primary). */
export async function backupOverview(
  access: OverviewAccess,
  opts: { showServer?: boolean; now?: () => Date; timeoutMs?: number } = {},
): Promise<BackupOverview> {
  const hosts = access.inventory.hosts.filter((h) => h.kind === 'barman');
  const answers: Record<string, LiveHost | { unreachable: string }> = {};
  await Promise.all(
    hosts.map(async (h) => {
      const servers = servedBy(access.config, access.inventory, h.name);
      const script = liveScript(servers, opts.showServer ? { showServer: true } : {});
      try {
        const r = await access.pool.forHost(h.name).exec(script, {
          sudo: true,
          check: false,
          timeoutMs: opts.timeoutMs ?? 60_000,
          step: 'backups overview',
        });
        answers[h.name] = parseLive(r.stdout, servers);
      } catch (e) {
        if (e instanceof CommandTimeoutError) {
          answers[h.name] = { unreachable: `no answer within ${Math.round(e.timeoutMs / 1000)} s` };
          return;
        }
        if (!isTpaError(e)) throw e;
        answers[h.name] = { unreachable: (e.message.split('\n')[0] ?? '').replace(`${h.name}: `, '') };
      }
    }),
  );
  return buildBackupOverview(access.config, access.inventory, answers, (opts.now ?? (() => new Date()))());
}

/** "last 20261122T162750 DONE 2.1 h ago" and the like, for the text renderings */
export function lastBackupText(n: BackupServerNow): string {
  const one = (b: BackupRef) =>
    `${b.id} ${b.status}${b.ageSeconds !== undefined ? ` ${durationText(b.ageSeconds * 1000)} ago` : ''}`;
  if (n.backups === undefined) return 'backups not read';
  if (!n.last) return 'no backup yet';
  const parts = [`last ${one(n.last)}`];
  if (n.lastComplete) parts.push(`last complete ${one(n.lastComplete)}`);
  return parts.join(', ');
}

/** "daily at 02:00 UTC, next in 6.8 h" */
export function scheduleText(s: BackupSchedule, now: Date): string {
  if (!s.next) return s.text;
  return `${s.text}, next in ${durationText(new Date(s.next).getTime() - now.getTime())}`;
}
