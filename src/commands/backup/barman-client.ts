/**
 * What the backup operations (backup, backups, restore, test's backup checks) share: which
 * barman host keeps which cluster's backups, and running barman there with its JSON output
 * parsed and its failures turned into errors that name the host and the step.
 */
import { ConnectionError, OperationError, RemoteCommandError, UsageError } from '../../core/errors.ts';
import { backupServerOf } from '../../model/backup.ts';
import type { ClusterConfig } from '../../model/schema.ts';
import type { InventoryHost } from '../../platforms/platform.ts';
import type { Transport } from '../../transport/transport.ts';
import { barmanCommand, barmanJsonCommand } from '../../components/barman/paths.ts';
import {
  BarmanOutputError,
  parseListBackupsJson,
  parseShowBackupJson,
  type BackupDetail,
  type BackupSummary,
} from '../../components/barman/output.ts';
import type { ClusterAccess } from '../../clusterdir/connect.ts';

export interface BackupTarget {
  cluster: ClusterConfig;
  /** the barman host that keeps this cluster's backups */
  host: InventoryHost;
}

/** The clusters to work on (one by name, or every cluster with backups) and their barman hosts. */
export function backupTargets(
  access: Pick<ClusterAccess, 'config' | 'inventory'>,
  cluster?: string,
): BackupTarget[] {
  const { config, inventory } = access;
  if (cluster !== undefined && !config.clusters.some((c) => c.name === cluster)) {
    throw new UsageError(
      `there is no cluster ${cluster} in this group`,
      `its clusters: ${config.clusters.map((c) => c.name).join(', ')}`,
    );
  }
  if (config.backup.mode === 'none') {
    throw new OperationError('backups are off in this group (backup.mode: none)', {
      step: 'backup',
      hint: 'set backup.mode to shared or exclusive in config.yml, add a barman service, then tpa provision and tpa deploy',
    });
  }
  const named = config.clusters.find((c) => c.name === cluster);
  if (named?.backups === false) {
    throw new OperationError(`cluster ${cluster} is not backed up (backups: false in config.yml)`, {
      step: 'backup',
    });
  }
  // a cluster with backups: false (e.g. a restore drill's temporary one) has no backups to work on
  const clusters = config.clusters.filter((c) => (cluster === undefined ? c.backups !== false : c === named));
  return clusters.map((c) => {
    const server = backupServerOf(config, c);
    const host = inventory.hosts.find((h) => h.name === server && h.kind === 'barman');
    if (server === undefined || host === undefined) {
      throw new OperationError(`cluster ${c.name} has no provisioned backup server`, {
        step: 'backup',
        hint: 'check backup_server in config.yml, then run tpa provision and tpa deploy',
      });
    }
    return { cluster: c, host };
  });
}

/** how a barman host that cannot be reached is reported */
function unreachable(host: string, step: string, e: Error): OperationError {
  return new OperationError(`the backup server ${host} cannot be reached: ${e.message}`, {
    host,
    step,
    hint: `start ${host} (tpa status shows it); WAL streaming resumes from its replication slot when it is back, and the next scheduled backup runs as usual`,
  });
}

export interface RunOptions {
  step: string;
  timeoutMs?: number;
}

/** Run a shell command on the barman host as root; connection failures name the backup server. */
export async function onBackupHost(
  t: Transport,
  command: string,
  opts: RunOptions,
): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
  try {
    return await t.exec(command, {
      sudo: true,
      check: false,
      step: opts.step,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  } catch (e) {
    if (e instanceof ConnectionError) throw unreachable(t.host, opts.step, e);
    throw e;
  }
}

/** barman's messages from its JSON output (_ERROR, _WARNING, _INFO lists) */
export function barmanMessages(stdout: string, key: '_ERROR' | '_WARNING' | '_INFO'): string[] {
  try {
    const data = JSON.parse(stdout.trim()) as Record<string, unknown>;
    const list = data[key];
    return Array.isArray(list) ? list.map(String) : [];
  } catch {
    return [];
  }
}

/** `barman -f json ARGS` on the host; a non-zero exit or an _ERROR becomes an OperationError */
export async function barmanJson(t: Transport, args: string[], opts: RunOptions): Promise<string> {
  const r = await onBackupHost(t, barmanJsonCommand(args), opts);
  const errors = barmanMessages(r.stdout, '_ERROR');
  if (r.exitCode !== 0 || errors.length > 0) {
    const why = [...errors, r.stderr.trim()].filter(Boolean).join('\n') || `exit code ${r.exitCode}`;
    throw new RemoteCommandError({
      host: t.host,
      command: `barman ${args.join(' ')}`,
      exitCode: r.exitCode,
      stderr: why,
      step: opts.step,
      hint: unknownServer(why)
        ? 'the backup server is not configured yet: run tpa deploy'
        : 'barman check on the backup server (tpa test) shows what is wrong',
    });
  }
  return r.stdout;
}

function unknownServer(text: string): boolean {
  return /Unknown server/i.test(text);
}

/** a parse error of barman's output is a failed operation on that host, not a crash */
export function parsed<T>(host: string, step: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BarmanOutputError || (e instanceof Error && e.name === 'ZodError')) {
      throw new OperationError(`${host}: unexpected output from barman: ${e.message}`, { host, step });
    }
    throw e;
  }
}

export interface ServerBackups {
  summaries: BackupSummary[];
  details: BackupDetail[];
}

/**
 * Every backup of one server in one round trip: list-backups, then show-backup of each, one
 * JSON document per line.
 */
export async function serverBackups(t: Transport, server: string, step = 'backups'): Promise<ServerBackups> {
  const list = barmanJsonCommand(['list-backups', server]);
  const ids = barmanCommand(['list-backups', '--minimal', server]);
  // the id comes from barman itself, appended as a quoted shell variable
  const show = `${barmanJsonCommand(['show-backup', server])} "$id"`;
  const script = ['set -e', `${list}; echo`, `for id in $(${ids}); do ${show}; echo; done`].join('\n');
  const r = await onBackupHost(t, script, { step });
  if (r.exitCode !== 0) {
    throw new RemoteCommandError({
      host: t.host,
      command: `barman list-backups ${server}`,
      exitCode: r.exitCode,
      stderr: [...barmanMessages(r.stdout.split('\n')[0] ?? '', '_ERROR'), r.stderr].join('\n'),
      step,
      hint: 'run tpa deploy if the backup server is not configured yet',
    });
  }
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  return parsed(t.host, step, () => ({
    summaries: parseListBackupsJson(lines[0] ?? '', server),
    details: lines.slice(1).map((l) => parseShowBackupJson(l, server)),
  }));
}
