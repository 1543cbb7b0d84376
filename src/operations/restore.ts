/**
 * `tpa restore DIR --cluster C (--time T | --lsn L | --backup ID | --latest) --into NEW`:
 * point-in-time recovery into a new cluster of the group; the original keeps running.
 *
 *   1. check the target against what barman holds (restore-range.ts): refused before anything
 *      changes, with the recoverable range
 *   2. add cluster NEW to config.yml (committed) and provision its nodes
 *   3. on NEW's primary: PostgreSQL installed, Debian's empty cluster stopped and kept aside;
 *      barman (on the backup server) gets a one-time SSH key for postgres@NEW-1
 *   4. `barman recover` with the target straight into NEW-1's data directory over SSH,
 *      promote at the target, recovery settings reset, repmgr's node records of the source
 *      cleared (deploy registers NEW's own), barman's key removed again
 *   5. `tpa deploy`: NEW is configured like any cluster (settings, TLS, pg_hba, repmgr,
 *      pgbouncer, its own barman server); its replicas are cloned from the restored primary
 * Nothing of the source cluster or its backups is touched; the empty cluster Debian created
 * on NEW-1 is moved aside, not deleted.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { OperationError, UsageError } from '../core/errors.ts';
import type { EventSink } from '../core/events.ts';
import { BARMAN_HOME, BARMAN_USER, barmanCommand } from '../components/barman/paths.ts';
import type { RestoreTarget } from '../components/barman/recovery.ts';
import { PG_OS_USER, pgPathsFor, psqlCommand, REPMGR_DATABASE } from '../components/postgres/paths.ts';
import { writeClusterFile } from '../clusterdir/dir.ts';
import { lookupHostKey } from '../transport/known-hosts.ts';
import { shellQuote as q } from '../transport/shell.ts';
import type { Transport } from '../transport/transport.ts';
import { backupTargets, onBackupHost } from './barman-client.ts';
import { commitDirFiles } from './commit-files.ts';
import { connectCluster, knownHostsPath, type ClusterAccess } from './connect.ts';
import { deploy } from './deploy.ts';
import { provision } from './provision.ts';
import { checkRestoreTarget, type AcceptedPlan } from './restore-range.ts';

export interface RestoreRequest {
  dir: string;
  cluster: string;
  target: RestoreTarget;
  /** the new cluster to restore into */
  into?: string;
  /** replicas of the new cluster, cloned from the restored primary (default 0) */
  replicas?: number;
  inPlace?: boolean;
  events: EventSink;
}

export interface RestoreReport {
  ok: true;
  cluster: string;
  into: string;
  nodes: string[];
  backup: string;
  target: string;
  durationMs: number;
  /** seconds per step: recover (barman), deploy */
  timings: Record<string, number>;
}

const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

/** The new cluster's name and nodes must be new to the group. */
function checkNewName(access: ClusterAccess, into: string, replicas: number): string[] {
  if (!NAME.test(into))
    throw new UsageError(`"${into}" is not a valid cluster name`, 'lower-case letters, digits and -');
  const nodes = Array.from({ length: replicas + 1 }, (_, i) => `${into}-${i + 1}`);
  const taken = new Set([
    ...access.config.clusters.flatMap((c) => [c.name, ...c.nodes.map((n) => n.name)]),
    ...access.config.services.map((s) => s.name),
  ]);
  const clash = [into, ...nodes].find((n) => taken.has(n));
  if (clash) throw new UsageError(`${clash} already exists in this group`, 'choose another name with --into');
  return nodes;
}

async function addClusterToConfig(
  dir: string,
  source: string,
  into: string,
  nodes: string[],
  server: string,
) {
  const path = join(dir, 'config.yml');
  const doc = parseDocument(await readFile(path, 'utf8'));
  const clusters = doc.get('clusters') as { add: (v: unknown) => void };
  const src = (
    doc.toJS() as { clusters: { name: string; failover_manager?: string; pooler?: string }[] }
  ).clusters.find((c) => c.name === source);
  clusters.add(
    doc.createNode({
      name: into,
      ...(src?.failover_manager ? { failover_manager: src.failover_manager } : {}),
      ...(src?.pooler ? { pooler: src.pooler } : {}),
      backup_server: server,
      nodes: nodes.map((n, i) => (i === 0 ? { name: n, role: 'primary' } : { name: n, role: 'replica' })),
    }),
  );
  await writeClusterFile(dir, 'config.yml', doc.toString());
}

async function must(
  t: Transport,
  command: string,
  step: string,
  opts: { timeoutMs?: number; stdin?: string } = {},
) {
  return t.exec(command, { sudo: true, step, ...opts });
}

const recoveryParams = [
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

/**
 * On the backup server, as barman: rsync every archived WAL segment at or after the backup's
 * first one (any timeline) and every timeline history file to the new primary.
 */
function extraWalCommand(server: string, beginWal: string, address: string, dest: string): string {
  const wals = `${BARMAN_HOME}/${server}/wals`;
  const list =
    `cd ${q(wals)} && awk -F '\\t' -v b=${q(beginWal.slice(8))} ` +
    `'$1 ~ /[.]history$/ { print $1; next } length($1) == 24 && substr($1, 9) >= b { print substr($1, 1, 16) "/" $1 }' xlog.db`;
  const rsync = `rsync -a --no-relative --files-from=- -e 'ssh -o BatchMode=yes' ./ ${q(`postgres@${address}:${dest}/`)}`;
  return `set -eu\nenv -C / runuser -u ${BARMAN_USER} -- sh -c ${q(`${list} | ${rsync}`)}`;
}

/** pg_controldata's labels of the settings a hot standby must at least match */
const CONTROL_SETTINGS: [string, string][] = [
  ['max_connections', 'max_connections'],
  ['max_worker_processes', 'max_worker_processes'],
  ['max_wal_senders', 'max_wal_senders'],
  ['max_prepared_xacts', 'max_prepared_transactions'],
  ['max_locks_per_xact', 'max_locks_per_transaction'],
];

const RESTORE_CONF = (confDir: string) => `${confDir}/tpa-restore.conf`;

function targetText(t: RestoreTarget): string {
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

export async function restore(req: RestoreRequest): Promise<RestoreReport> {
  const started = Date.now();
  const events = req.events;
  if (req.inPlace) {
    throw new UsageError(
      'restoring in place is not available yet',
      'restore into a new cluster with --into NEW',
    );
  }
  if (!req.into) throw new UsageError('say where to restore: --into NEW_CLUSTER');
  let access = await connectCluster(req.dir, { events });
  let plan: AcceptedPlan;
  let nodes: string[];
  let serverHost: string;
  try {
    const [target] = backupTargets(access, req.cluster);
    serverHost = target!.host.name;
    nodes = checkNewName(access, req.into, req.replicas ?? 0);
    events({ kind: 'phase-started', phase: 'restore: check the target', hosts: [serverHost] });
    plan = await checkRestoreTarget(access.pool.forHost(serverHost), target!, req.target, events);
    events({ kind: 'info', message: `restoring ${plan.description}` });
  } finally {
    await access.close();
  }

  events({ kind: 'phase-started', phase: 'restore: add and provision cluster ' + req.into });
  await addClusterToConfig(access.dir, req.cluster, req.into, nodes, serverHost);
  await commitDirFiles(
    access.dir,
    ['config.yml'],
    `restore: new cluster ${req.into} from ${req.cluster} (${targetText(req.target)})`,
  );
  await provision({ dir: access.dir, events });

  access = await connectCluster(access.dir, { events });
  const timings: Record<string, number> = {};
  try {
    const p = pgPathsFor(access.config);
    const primary = access.inventory.hosts.find((h) => h.name === nodes[0])!;
    const barmanHost = access.inventory.hosts.find((h) => h.name === serverHost)!;
    const node = access.pool.forHost(primary.name);
    const bh = access.pool.forHost(serverHost);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');

    events({
      kind: 'phase-started',
      phase: 'restore: prepare ' + primary.name,
      hosts: [primary.name, serverHost],
    });
    // the packages deploy installs anyway; Debian creates an empty cluster, kept aside
    await must(
      node,
      [
        'set -eu',
        'export DEBIAN_FRONTEND=noninteractive',
        `apt-get -q -y -o DPkg::Lock::Timeout=300 --no-install-recommends install ${p.package} postgresql-${p.version}-repmgr rsync openssh-server >/dev/null ||` +
          ` { apt-get -q update >/dev/null && apt-get -q -y --no-install-recommends install ${p.package} postgresql-${p.version}-repmgr rsync openssh-server >/dev/null; }`,
        `systemctl stop ${p.service}`,
        `if [ -d ${q(p.dataDir)} ]; then mv ${q(p.dataDir)} ${q(`${p.dataDir}.empty-${stamp}`)}; fi`,
        `install -d -o ${PG_OS_USER} -g ${PG_OS_USER} -m 0700 ${q(p.dataDir)}`,
      ].join('\n'),
      'restore: prepare the new primary',
      { timeoutMs: 15 * 60_000 },
    );

    // barman reaches postgres@NEW-1 with a key of its own, pinned to the host key provision recorded
    const keyFile = `${BARMAN_HOME}/.ssh/id_ed25519`;
    const pub = await must(
      bh,
      [
        'set -eu',
        `install -d -o ${BARMAN_USER} -g ${BARMAN_USER} -m 0700 ${BARMAN_HOME}/.ssh`,
        `[ -f ${keyFile} ] || env -C / runuser -u ${BARMAN_USER} -- ssh-keygen -q -t ed25519 -N '' -C tpa-barman-restore -f ${keyFile}`,
        `cat ${keyFile}.pub`,
      ].join('\n'),
      'restore: barman SSH key',
    );
    const hostKey = lookupHostKey(knownHostsPath(access.dir), primary.address, primary.sshPort);
    if (!hostKey)
      throw new OperationError(`no host key recorded for ${primary.name}`, { host: primary.name });
    await must(
      bh,
      `set -eu\nkh=${BARMAN_HOME}/.ssh/known_hosts\ntouch "$kh"\ngrep -vF -- ${q(`${primary.address} `)} "$kh" > "$kh.new" || true\ncat >> "$kh.new"\nchown ${BARMAN_USER}:${BARMAN_USER} "$kh.new"\nchmod 0600 "$kh.new"\nmv "$kh.new" "$kh"`,
      'restore: barman known_hosts',
      { stdin: `${primary.address} ${hostKey.keyType} ${hostKey.key}\n` },
    );
    const authLine = `from="${barmanHost.address}",no-agent-forwarding,no-X11-forwarding,no-port-forwarding ${pub.stdout.trim()}`;
    const pgSsh = `$(getent passwd ${PG_OS_USER} | cut -d: -f6)/.ssh`;
    await must(
      node,
      `set -eu\nd=${pgSsh}\ninstall -d -o ${PG_OS_USER} -g ${PG_OS_USER} -m 0700 "$d"\ncat >> "$d/authorized_keys"\nchown ${PG_OS_USER}:${PG_OS_USER} "$d/authorized_keys"\nchmod 0600 "$d/authorized_keys"`,
      'restore: authorise barman',
      { stdin: `${authLine}\n` },
    );

    events({
      kind: 'phase-started',
      phase: `restore: barman recover into ${primary.name}`,
      hosts: [serverHost],
    });
    const t0 = Date.now();
    const targetAction = plan.options.length > 0 ? ['--target-action', 'promote'] : [];
    const recover = await onBackupHost(
      bh,
      barmanCommand([
        'recover',
        '--remote-ssh-command',
        `ssh -o BatchMode=yes postgres@${primary.address}`,
        ...plan.options,
        ...targetAction,
        req.cluster,
        plan.backup.id,
        p.dataDir,
      ]),
      { step: 'restore: barman recover', timeoutMs: 6 * 60 * 60_000 },
    );
    if (recover.exitCode !== 0) {
      throw new OperationError(
        `barman recover failed: ${[recover.stdout, recover.stderr].join('\n').trim().split('\n').slice(-10).join('\n')}`,
        {
          host: serverHost,
          step: 'restore: barman recover',
          hint: `the source cluster ${req.cluster} was not touched`,
        },
      );
    }
    if (plan.options.length > 0 && plan.backup.beginWal) {
      // barman copies the WAL files that *arrived* before the target time; WAL that reached
      // it later (e.g. after the backup server was down) may hold the records recovery needs
      // to find the target, so every archived file from the backup on goes along
      await must(
        bh,
        extraWalCommand(req.cluster, plan.backup.beginWal, primary.address, `${p.dataDir}/barman_wal`),
        'restore: copy the archived WAL',
        { timeoutMs: 6 * 60 * 60_000 },
      );
    }
    await must(
      node,
      [
        'set -eu',
        // a hot standby refuses to replay WAL of a server with larger settings than its own:
        // until deploy writes this cluster's, recover with the values the backup's control file records
        `c=$(${p.binDir}/pg_controldata ${q(p.dataDir)})`,
        `f=${q(RESTORE_CONF(p.confDir))}`,
        '{ echo "# tpa restore: removed once the server is promoted"',
        ...CONTROL_SETTINGS.map(
          ([label, name]) =>
            `  printf '%s = %s\n' ${name} "$(printf '%s\n' "$c" | sed -n 's/^${label} setting: *//p')"`,
        ),
        '} > "$f"',
        `chown ${PG_OS_USER}:${PG_OS_USER} "$f"`,
        `systemctl start ${p.service} || { journalctl -u ${p.service} -n 20 --no-pager >&2; tail -n 30 ${q(p.logFile)} >&2; exit 1; }`,
        // recovery replays WAL up to the target and promotes there
        'for i in $(seq 1 600); do',
        `  r=$(${psqlCommand('SELECT pg_is_in_recovery()')} 2>/dev/null || true)`,
        '  [ "$r" = f ] && break',
        '  sleep 1',
        'done',
        `[ "$(${psqlCommand('SELECT pg_is_in_recovery()')})" = f ] || { tail -n 30 ${q(p.logFile)} >&2; exit 1; }`,
      ].join('\n'),
      'restore: recover and promote',
      { timeoutMs: 15 * 60_000 },
    );
    timings.recover = (Date.now() - t0) / 1000;

    // the recovery settings barman wrote must not apply to a later recovery of this node
    // one -c each: ALTER SYSTEM cannot run inside the transaction a multi-statement -c is
    const reset = recoveryParams.map((x) => `-c ${q(`ALTER SYSTEM RESET ${x}`)}`).join(' ');
    await must(
      node,
      [
        'set -eu',
        `cd / && runuser -u ${PG_OS_USER} -- psql -X -q -v ON_ERROR_STOP=1 -d postgres ${reset} -c 'SELECT pg_reload_conf()' >/dev/null`,
        `rm -rf ${q(`${p.dataDir}/barman_wal`)}`,
        `rm -f ${q(RESTORE_CONF(p.confDir))}`,
        // repmgr's records describe the source cluster's nodes: deploy registers this cluster's
        `if [ "$(${psqlCommand(`SELECT 1 FROM pg_database WHERE datname = '${REPMGR_DATABASE}'`)})" = 1 ]; then`,
        `  ${psqlCommand('DELETE FROM repmgr.nodes', REPMGR_DATABASE)} >/dev/null`,
        'fi',
        // barman's one-time key is not needed any more
        `d=${pgSsh}; grep -vF tpa-barman-restore "$d/authorized_keys" > "$d/authorized_keys.new" || true`,
        'mv "$d/authorized_keys.new" "$d/authorized_keys"',
        `chown ${PG_OS_USER}:${PG_OS_USER} "$d/authorized_keys"; chmod 0600 "$d/authorized_keys"`,
      ].join('\n'),
      'restore: clean up after recovery',
    );
  } finally {
    await access.close();
  }

  events({ kind: 'phase-started', phase: `restore: deploy cluster ${req.into}` });
  const t1 = Date.now();
  await deploy({ dir: access.dir, events });
  timings.deploy = (Date.now() - t1) / 1000;
  return {
    ok: true,
    cluster: req.cluster,
    into: req.into,
    nodes,
    backup: plan.backup.id,
    target: targetText(req.target),
    durationMs: Date.now() - started,
    timings,
  };
}
