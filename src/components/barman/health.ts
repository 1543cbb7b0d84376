/**
 * The backup checks of `tpa test`, as pure judgements of what was read on a backup server:
 *   barman-check    `barman check` reports every check OK
 *   backup-recent   the newest complete backup is younger than the schedule allows
 *   wal-archiving   WAL streaming is current: barman's slot on the primary is active and
 *                   close to the primary's WAL position, and `barman cron` keeps archiving
 *                   (finished WAL files do not pile up in the streaming directory)
 * The hosts run UTC (common component), so the schedule is read in UTC.
 */
import cronParser from 'cron-parser';
import { sh } from '../../core/shell.ts';
import { barmanJsonCommand, serverConfPath, serverHome } from './paths.ts';
import { BARMAN_SLOT, BARMAN_USER } from './paths.ts';
import { parseCheckJson, parseListBackupsJson, type BarmanCheck, type BackupSummary } from './output.ts';

export type HealthStatus = 'pass' | 'fail';

export interface HealthResult {
  check: 'barman-check' | 'backup-recent' | 'wal-archiving';
  status: HealthStatus;
  detail: string;
}

/** grace after a scheduled time for the backup to run and finish */
export const BACKUP_GRACE_MS = 60 * 60_000;
/** how far barman's slot may trail the primary's current WAL position */
export const MAX_WAL_LAG_BYTES = 64 * 1024 * 1024;
/** finished WAL files waiting in streaming/ for `barman cron` (runs every minute) */
export const MAX_PENDING_WALS = 4;

/**
 * The oldest a newest backup may be at `now`: the schedule's interval (between its last two
 * firings before now) plus the grace for the backup to complete.
 */
export function maxBackupAgeMs(schedule: string, now: Date): number {
  const it = cronParser.parseExpression(schedule, { currentDate: now, tz: 'UTC' });
  const prev = it.prev().getTime();
  const prev2 = it.prev().getTime();
  return prev - prev2 + BACKUP_GRACE_MS;
}

export function judgeBarmanCheck(checks: BarmanCheck[]): HealthResult {
  const failed = checks.filter((c) => !c.ok);
  if (checks.length === 0)
    return { check: 'barman-check', status: 'fail', detail: 'barman check reported nothing' };
  if (failed.length === 0)
    return { check: 'barman-check', status: 'pass', detail: `${checks.length} checks OK` };
  return {
    check: 'barman-check',
    status: 'fail',
    detail: failed.map((c) => `${c.name.replaceAll('_', ' ')}${c.hint ? ` (${c.hint})` : ''}`).join('; '),
  };
}

function ageText(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48
    ? `${(h / 24).toFixed(1)} days`
    : h >= 1
      ? `${h.toFixed(1)} h`
      : `${Math.round(ms / 60_000)} min`;
}

export function judgeBackupRecent(backups: BackupSummary[], schedule: string, now: Date): HealthResult {
  const done = backups.filter((b) => b.status === 'DONE' && b.endEpoch !== undefined);
  const limit = maxBackupAgeMs(schedule, now);
  if (done.length === 0) return { check: 'backup-recent', status: 'fail', detail: 'no complete backup' };
  const newest = done.reduce((a, b) => (b.endEpoch! > a.endEpoch! ? b : a));
  const age = now.getTime() - newest.endEpoch! * 1000;
  const text = `newest backup ${newest.id} is ${ageText(Math.max(0, age))} old (schedule "${schedule}" allows ${ageText(limit)})`;
  return { check: 'backup-recent', status: age <= limit ? 'pass' : 'fail', detail: text };
}

export interface WalEvidence {
  /** barman's slot on the primary: active, and bytes between it and the primary's WAL position */
  slotActive?: boolean;
  slotLagBytes?: number;
  /** finished WAL files in streaming/ not yet archived */
  pendingWals: number;
  receiveWalRunning?: boolean;
  /** why the slot could not be read */
  error?: string;
}

export function judgeWalArchiving(e: WalEvidence): HealthResult {
  const fail = (detail: string): HealthResult => ({ check: 'wal-archiving', status: 'fail', detail });
  if (e.error) return fail(e.error);
  if (e.receiveWalRunning === false) return fail('barman receive-wal is not running');
  if (e.slotActive === undefined)
    return fail(`replication slot ${BARMAN_SLOT} does not exist on the primary`);
  if (!e.slotActive)
    return fail(`replication slot ${BARMAN_SLOT} on the primary is not in use (WAL is not streaming)`);
  if ((e.slotLagBytes ?? 0) > MAX_WAL_LAG_BYTES)
    return fail(`barman trails the primary by ${e.slotLagBytes} bytes (limit ${MAX_WAL_LAG_BYTES})`);
  if (e.pendingWals > MAX_PENDING_WALS)
    return fail(`${e.pendingWals} finished WAL files wait in streaming/: barman cron is not archiving them`);
  return {
    check: 'wal-archiving',
    status: 'pass',
    detail: `streaming, ${e.slotLagBytes ?? 0} bytes behind the primary, ${e.pendingWals} WAL files waiting`,
  };
}

// ---------------------------------------------------------------------------------------
// One script per backup server: sections separated by marker lines.

const SECTION = '@@tpa-section ';

/** reads barman check, list-backups, the slot on the primary (over barman's own conninfo) and streaming/ */
export function healthScript(server: string): string {
  const conf = serverConfPath(server);
  const slotSql = `SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) FROM pg_replication_slots WHERE slot_name = '${BARMAN_SLOT}'`;
  return [
    `echo '${SECTION}check'; ${barmanJsonCommand(['check', server])}; echo`,
    `echo '${SECTION}list'; ${barmanJsonCommand(['list-backups', server])}; echo`,
    `echo '${SECTION}slot'`,
    sh`ci=$(sed -n 's/^conninfo *= *//p' ${conf} | head -n1)`,
    sh`env -C / runuser -u ${BARMAN_USER} -- psql -X -A -t -q -w -d "$ci" -c ${slotSql} 2>&1 | head -n 3`,
    `echo '${SECTION}pending'`,
    sh`n=0; for f in ${`${serverHome(server)}/streaming`}/*; do case "\${f##*/}" in *.partial) ;; ???????????????????????[0-9A-F]) n=$((n+1)) ;; esac; done; echo "$n"`,
  ].join('\n');
}

export function splitSections(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(SECTION)) {
      name = line.slice(SECTION.length).trim();
      out[name] = '';
    } else if (name !== undefined) out[name] += `${line}\n`;
  }
  return out;
}

/** every judgement from the script's output; parse failures become failed checks, not crashes */
export function judgeServer(server: string, stdout: string, schedule: string, now: Date): HealthResult[] {
  const s = splitSections(stdout);
  let checks: BarmanCheck[] = [];
  let checkError: string | undefined;
  try {
    checks = parseCheckJson(s.check ?? '', server);
  } catch (e) {
    checkError = (e as Error).message;
  }
  let backups: BackupSummary[] | undefined;
  let listError: string | undefined;
  try {
    backups = parseListBackupsJson(s.list ?? '', server);
  } catch (e) {
    listError = (e as Error).message;
  }
  const slotLine = (s.slot ?? '').trim();
  const m = /^([tf])\|(-?\d+)$/m.exec(slotLine);
  const receive = checks.find((c) => c.name === 'receive_wal_running');
  const evidence: WalEvidence = {
    pendingWals: Number((s.pending ?? '0').trim()) || 0,
    ...(receive ? { receiveWalRunning: receive.ok } : {}),
    ...(m ? { slotActive: m[1] === 't', slotLagBytes: Number(m[2]) } : {}),
    ...(!m && slotLine !== ''
      ? { error: `cannot read the slot on the primary: ${slotLine.split('\n')[0]}` }
      : {}),
  };
  return [
    checkError ? { check: 'barman-check', status: 'fail', detail: checkError } : judgeBarmanCheck(checks),
    listError || !backups
      ? { check: 'backup-recent', status: 'fail', detail: listError ?? 'no backup list' }
      : judgeBackupRecent(backups, schedule, now),
    judgeWalArchiving(evidence),
  ];
}
