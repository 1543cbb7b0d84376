/**
 * The steps every restore shares (into a new cluster, in place, the restore drill): get a
 * node's data directory out of the way without deleting it, then let barman recover a backup
 * straight into it over SSH and bring the server up at the target.
 *
 *   keepDataDirAside   the server stopped; its data directory renamed to
 *                      <dataDir>.<label>-<stamp> (never deleted: the user removes it)
 *   recoverIntoNode    barman gets a one-time SSH key for postgres@node, pinned to the host
 *                      key provision recorded; `barman recover` with the target; extra WAL for
 *                      point-in-time targets; start, replay, promote; barman's recovery
 *                      settings reset; repmgr's node records optionally cleared (deploy
 *                      registers the nodes again); barman's key removed again, also on failure
 */
import { OperationError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { BARMAN_HOME, BARMAN_USER, barmanCommand } from '../../components/barman/paths.ts';
import {
  createClusterCommand,
  PG_OS_USER,
  pgPathsFor,
  type PgPaths,
} from '../../components/postgres/paths.ts';
import { allFailoverManagers } from '../../components/failover/registry.ts';
import type { InventoryHost } from '../../platforms/platform.ts';
import { lookupHostKey } from '../../transport/known-hosts.ts';
import { raw, sh } from '../../core/shell.ts';
import type { Transport } from '../../transport/transport.ts';
import { onBackupHost } from '../backup/barman-client.ts';
import { knownHostsPath, type ClusterAccess } from '../../clusterdir/connect.ts';
import type { RestoreTarget } from '../../components/barman/recovery.ts';
import type { AcceptedPlan } from './range.ts';
import { psqlAsPostgres } from '../../components/postgres/psql.ts';

/** how a target reads in messages and commit subjects */
export function targetText(t: RestoreTarget): string {
  switch (t.kind) {
    case 'time':
      return `time ${t.time.toISOString()}`;
    case 'lsn':
      return `LSN ${t.lsn}`;
    case 'backup':
      return `backup ${t.id}`;
    case 'latest':
      return 'latest';
  }
}

export async function must(
  t: Transport,
  command: string,
  step: string,
  opts: { timeoutMs?: number; stdin?: string } = {},
) {
  return t.exec(command, { sudo: true, step, ...opts });
}

/** Run a step and record its seconds under key (the timings a restore reports). */
export async function timed<T>(
  timings: Record<string, number>,
  key: string,
  step: () => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const out = await step();
  timings[key] = (Date.now() - started) / 1000;
  return out;
}

/** 20260522T140301: suffix of directories kept aside */
export function restoreStamp(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
}

/**
 * Packages a node needs before barman can recover into it (deploy installs them anyway), and
 * the cluster whose configuration the recovered data runs with.
 */
export function installForRecoveryCommand(p: PgPaths): string {
  const pkgs = `${p.package} postgresql-${p.version}-repmgr rsync openssh-server`;
  return [
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive',
    `apt-get -q -y -o DPkg::Lock::Timeout=300 --no-install-recommends install ${pkgs} >/dev/null ||` +
      ` { apt-get -q update >/dev/null && apt-get -q -y --no-install-recommends install ${pkgs} >/dev/null; }`,
    createClusterCommand(p),
  ].join('\n');
}

/**
 * Stop the server and rename its data directory to <dataDir>.<label>-<stamp>; an empty
 * directory owned by postgres takes its place. Prints the kept path (nothing when there was
 * no data directory).
 */
export function keepDataDirAsideCommand(p: PgPaths, label: string, stamp: string): string {
  const aside = `${p.dataDir}.${label}-${stamp}`;
  return [
    'set -eu',
    sh`systemctl stop ${p.service}`,
    sh`if [ -d ${p.dataDir} ] && [ -n "$(ls -A ${p.dataDir})" ]; then`,
    sh`  [ ! -e ${aside} ] || { echo ${`${aside} exists already`} >&2; exit 1; }`,
    sh`  mv ${p.dataDir} ${aside}`,
    sh`  echo ${aside}`,
    'fi',
    sh`install -d -o ${PG_OS_USER} -g ${PG_OS_USER} -m 0700 ${p.dataDir}`,
  ].join('\n');
}

const RECOVERY_PARAMS = [
  'restore_command',
  'recovery_end_command',
  'recovery_target',
  'recovery_target_time',
  'recovery_target_lsn',
  'recovery_target_name',
  'recovery_target_xid',
  'recovery_target_timeline',
  'recovery_target_inclusive',
  'recovery_target_action',
];

/** pg_controldata's labels of the settings a hot standby must at least match */
const CONTROL_SETTINGS: [string, string][] = [
  ['max_connections', 'max_connections'],
  ['max_worker_processes', 'max_worker_processes'],
  ['max_wal_senders', 'max_wal_senders'],
  ['max_prepared_xacts', 'max_prepared_transactions'],
  ['max_locks_per_xact', 'max_locks_per_transaction'],
];

const restoreConf = (p: PgPaths) => `${p.confDir}/tpa-restore.conf`;

/**
 * On the backup server, as barman: rsync every archived WAL segment at or after the backup's
 * first one (any timeline) and every timeline history file to the node.
 */
function extraWalCommand(server: string, beginWal: string, address: string, dest: string): string {
  const wals = `${BARMAN_HOME}/${server}/wals`;
  const list =
    sh`cd ${wals} && awk -F '\\t' -v b=${beginWal.slice(8)} ` +
    `'$1 ~ /[.]history$/ { print $1; next } length($1) == 24 && substr($1, 9) >= b { print substr($1, 1, 16) "/" $1 }' xlog.db`;
  const rsync = sh`rsync -a --no-relative --files-from=- -e 'ssh -o BatchMode=yes' ./ ${`postgres@${address}:${dest}/`}`;
  return sh`set -eu\nenv -C / runuser -u ${BARMAN_USER} -- sh -c ${`${list} | ${rsync}`}`;
}

const KEY_COMMENT = 'tpa-barman-restore';
const pgSshDir = `$(getent passwd ${PG_OS_USER} | cut -d: -f6)/.ssh`;

/** barman's key for postgres@node, pinned to the host key provision recorded */
async function authoriseBarman(access: ClusterAccess, node: InventoryHost, barmanHost: InventoryHost) {
  const bh = access.pool.forHost(barmanHost.name);
  const keyFile = `${BARMAN_HOME}/.ssh/id_ed25519`;
  const pub = await must(
    bh,
    [
      'set -eu',
      `install -d -o ${BARMAN_USER} -g ${BARMAN_USER} -m 0700 ${BARMAN_HOME}/.ssh`,
      `[ -f ${keyFile} ] || env -C / runuser -u ${BARMAN_USER} -- ssh-keygen -q -t ed25519 -N '' -C ${KEY_COMMENT} -f ${keyFile}`,
      `cat ${keyFile}.pub`,
    ].join('\n'),
    'restore: barman SSH key',
  );
  const hostKey = lookupHostKey(knownHostsPath(access.dir), node.address, node.sshPort);
  if (!hostKey) throw new OperationError(`no host key recorded for ${node.name}`, { host: node.name });
  await must(
    bh,
    sh`set -eu\nkh=${BARMAN_HOME}/.ssh/known_hosts\ntouch "$kh"\ngrep -vF -- ${`${node.address} `} "$kh" > "$kh.new" || true\ncat >> "$kh.new"\nchown ${`${BARMAN_USER}:${BARMAN_USER}`} "$kh.new"\nchmod 0600 "$kh.new"\nmv "$kh.new" "$kh"`,
    'restore: barman known_hosts',
    { stdin: `${node.address} ${hostKey.keyType} ${hostKey.key}\n` },
  );
  const authLine = `from="${barmanHost.address}",no-agent-forwarding,no-X11-forwarding,no-port-forwarding ${pub.stdout.trim()}`;
  await must(
    access.pool.forHost(node.name),
    `set -eu\nd=${pgSshDir}\ninstall -d -o ${PG_OS_USER} -g ${PG_OS_USER} -m 0700 "$d"\ncat >> "$d/authorized_keys"\nchown ${PG_OS_USER}:${PG_OS_USER} "$d/authorized_keys"\nchmod 0600 "$d/authorized_keys"`,
    'restore: authorise barman',
    { stdin: `${authLine}\n` },
  );
}

async function revokeBarman(t: Transport) {
  await must(
    t,
    [
      'set -eu',
      `d=${pgSshDir}`,
      '[ -f "$d/authorized_keys" ] || exit 0',
      `grep -vF ${KEY_COMMENT} "$d/authorized_keys" > "$d/authorized_keys.new" || true`,
      'mv "$d/authorized_keys.new" "$d/authorized_keys"',
      `chown ${PG_OS_USER}:${PG_OS_USER} "$d/authorized_keys"; chmod 0600 "$d/authorized_keys"`,
    ].join('\n'),
    "restore: remove barman's key",
  );
}

export interface RecoverInput {
  access: ClusterAccess;
  /** barman's server name: the source cluster */
  server: string;
  /** the backup host that keeps it */
  serverHost: string;
  /** the node to recover into; its data directory is empty and its server stopped */
  node: string;
  plan: AcceptedPlan;
  /** delete the failover manager's node records of the backup (deploy registers the nodes again) */
  clearRepmgrNodes: boolean;
  events: EventSink;
}

/** Recover into an empty, stopped node and bring it up promoted. Returns seconds spent. */
export async function recoverIntoNode(i: RecoverInput): Promise<number> {
  const { access, plan, events } = i;
  const p = pgPathsFor(access.config);
  const node = access.inventory.hosts.find((h) => h.name === i.node)!;
  const barmanHost = access.inventory.hosts.find((h) => h.name === i.serverHost)!;
  const nt = access.pool.forHost(node.name);
  const bh = access.pool.forHost(barmanHost.name);
  const started = Date.now();
  const latest = plan.options.length === 0;
  await authoriseBarman(access, node, barmanHost);
  try {
    events({
      kind: 'phase-started',
      phase: `restore: barman recover into ${node.name}`,
      hosts: [i.serverHost],
    });
    const targetAction = plan.options.length > 0 ? ['--target-action', 'promote'] : [];
    const recover = await onBackupHost(
      bh,
      barmanCommand([
        'recover',
        '--remote-ssh-command',
        `ssh -o BatchMode=yes postgres@${node.address}`,
        ...plan.options,
        ...targetAction,
        i.server,
        plan.backup.id,
        p.dataDir,
      ]),
      { step: 'restore: barman recover', timeoutMs: 6 * 60 * 60_000 },
    );
    if (recover.exitCode !== 0) {
      throw new OperationError(
        `barman recover failed: ${[recover.stdout, recover.stderr].join('\n').trim().split('\n').slice(-10).join('\n')}`,
        {
          host: i.serverHost,
          step: 'restore: barman recover',
          hint: `the backups of ${i.server} were not touched`,
        },
      );
    }
    if (plan.backup.beginWal) {
      // barman copies the WAL files that *arrived* before the target time; WAL that reached
      // it later (e.g. after the backup server was down) may hold the records recovery needs
      // to find the target, so every archived file from the backup on goes along. For
      // --latest barman only copies the backup's own timeline into pg_wal (crash recovery):
      // with every file and history here, recovery follows the newest timeline to its end
      await must(
        bh,
        extraWalCommand(i.server, plan.backup.beginWal, node.address, `${p.dataDir}/barman_wal`),
        'restore: copy the archived WAL',
        { timeoutMs: 6 * 60 * 60_000 },
      );
    }
  } finally {
    await revokeBarman(nt);
  }
  await must(
    nt,
    [
      'set -eu',
      // a hot standby refuses to replay WAL of a server with larger settings than its own:
      // until deploy writes this cluster's, recover with the values the backup's control file records
      sh`c=$(${`${p.binDir}/pg_controldata`} ${p.dataDir})`,
      sh`f=${restoreConf(p)}`,
      '{ echo "# tpa restore: removed once the server is promoted"',
      ...CONTROL_SETTINGS.map(
        ([label, name]) =>
          `  printf '%s = %s\n' ${name} "$(printf '%s\n' "$c" | sed -n 's/^${label} setting: *//p')"`,
      ),
      '} > "$f"',
      ...(latest
        ? [
            // archive recovery to the end of the archive, on the newest timeline, then promote
            `cat >> "$f" <<'TPA_RESTORE'`,
            `restore_command = 'cp ${p.dataDir}/barman_wal/%f %p'`,
            "recovery_target_timeline = 'latest'",
            'TPA_RESTORE',
            sh`install -o ${PG_OS_USER} -g ${PG_OS_USER} -m 0600 /dev/null ${`${p.dataDir}/recovery.signal`}`,
          ]
        : []),
      `chown ${PG_OS_USER}:${PG_OS_USER} "$f"`,
      sh`systemctl start ${p.service} || { journalctl -u ${p.service} -n 20 --no-pager >&2; tail -n 30 ${p.logFile} >&2; exit 1; }`,
      // recovery replays WAL up to the target and promotes there
      'for i in $(seq 1 600); do',
      `  r=$(${psqlAsPostgres({ sql: 'SELECT pg_is_in_recovery()', onErrorStop: false })} 2>/dev/null || true)`,
      '  [ "$r" = f ] && break',
      '  sleep 1',
      'done',
      sh`[ "$(${raw(psqlAsPostgres({ sql: 'SELECT pg_is_in_recovery()', onErrorStop: false }))})" = f ] || { tail -n 30 ${p.logFile} >&2; exit 1; }`,
    ].join('\n'),
    'restore: recover and promote',
    { timeoutMs: 15 * 60_000 },
  );
  // the recovery settings barman wrote must not apply to a later recovery of this node
  // one -c each: ALTER SYSTEM cannot run inside the transaction a multi-statement -c is
  const reset = RECOVERY_PARAMS.flatMap((x) => [raw('-c'), `ALTER SYSTEM RESET ${x}`]);
  await must(
    nt,
    [
      'set -eu',
      `${psqlAsPostgres({ tuplesOnly: false, port: false, args: reset, sql: 'SELECT pg_reload_conf()' })} >/dev/null`,
      sh`rm -rf ${`${p.dataDir}/barman_wal`}`,
      sh`rm -f ${restoreConf(p)}`,
      // the backup may come from a cluster with another failover manager than this node's:
      // each manager forgets its own node records, only where it finds them
      ...(i.clearRepmgrNodes
        ? allFailoverManagers().flatMap((m) => (m.forgetNodes ? [m.forgetNodes] : []))
        : []),
    ].join('\n'),
    'restore: clean up after recovery',
  );
  return (Date.now() - started) / 1000;
}
