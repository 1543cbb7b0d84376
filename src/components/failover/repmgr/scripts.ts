/**
 * Shell that the repmgr component runs or installs on the hosts. Every command re-checks the
 * host's real state before it changes anything, because the facts a plan was made from may be
 * stale by the time it runs; and none of them ever overwrites a data directory that belongs to
 * the cluster (same system identifier as the upstream) or that holds user databases.
 */
import { REPMGR_DATABASE, REPMGR_ROLE } from './names.ts';
import { raw, sh } from '../../../core/shell.ts';
import { PG_OS_USER, ROLES, type PgPaths } from '../../postgres/paths.ts';
import { psqlAsPostgres } from '../../postgres/psql.ts';
import { EVENT_LOG, REPMGR_CONF, repmgrBin } from './conf.ts';

/** the pgbouncer component installs this; the event script runs it when it exists */
export const PGBOUNCER_FOLLOW_SCRIPT = '/usr/local/lib/tpa/pgbouncer-follow.sh';

/** events after which the primary may have moved, so the local pgbouncer re-checks its route */
export const PRIMARY_CHANGE_EVENTS = [
  'standby_promote',
  'repmgrd_failover_promote',
  'standby_switchover',
  'standby_follow',
  'repmgrd_failover_follow',
  'repmgrd_upstream_reconnect',
  'node_rejoin',
] as const;

/**
 * event_notification_command: logs every event as one tab-separated line
 * (timestamp, node id, event, success, details) and, after an event that can move the
 * primary, lets the local pgbouncer follow it. Runs as postgres, from repmgr and repmgrd.
 */
export function renderEventScript(): string {
  return `#!/bin/sh
# Managed by tpa: repmgr event notification (event_notification_command in ${REPMGR_CONF}).
# Called by repmgr and repmgrd as: repmgr-event.sh <node_id> <event> <success> <timestamp> <details>
# Logs one line per event to ${EVENT_LOG}; after an event that can move the
# primary it runs the pgbouncer follower, which points the local pgbouncer at the primary.
LOG=\${TPA_REPMGR_EVENT_LOG:-${EVENT_LOG}}
FOLLOW=\${TPA_PGBOUNCER_FOLLOW:-${PGBOUNCER_FOLLOW_SCRIPT}}

node_id=\${1:-} event=\${2:-} success=\${3:-} timestamp=\${4:-} details=\${5:-}
oneline() { printf '%s' "$1" | tr '\\t\\r\\n' '   '; }

printf '%s\\tnode=%s\\tevent=%s\\tsuccess=%s\\t%s\\n' \\
  "$(oneline "$timestamp")" "$(oneline "$node_id")" "$(oneline "$event")" \\
  "$(oneline "$success")" "$(oneline "$details")" >>"$LOG" 2>/dev/null

here=''
case "$event" in standby_promote | repmgrd_failover_promote) here=--promoted-here ;; esac
case "$event" in
  ${PRIMARY_CHANGE_EVENTS.join('|')})
    # in the background: repmgrd waits for this script, and a failover must not wait on the pooler
    if [ -x "$FOLLOW" ]; then
      # shellcheck disable=SC2086 # here is one word or none
      (timeout 60 "$FOLLOW" --reason "repmgr event $event on node $node_id" $here >>"$LOG" 2>&1 ||
        printf '%s\\tpgbouncer follower failed after %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$event" >>"$LOG" 2>/dev/null) </dev/null &
    fi
    ;;
esac
exit 0
`;
}

const asPostgres = (cmd: string) => sh`runuser -u ${PG_OS_USER} -- ${raw(cmd)}`;

/** one value, no headers; the exit code of psql alone says whether it failed */
const psql = (sql: string, db: string = 'postgres') =>
  psqlAsPostgres({ sql, db, onErrorStop: false, port: false });

/**
 * waits up to 60 s for the local server to accept connections; as postgres, into a database
 * that exists: pg_isready's probe is a real login attempt, which the server logs as a FATAL
 * when root asks for a database "root"
 */
const waitReady = (p: PgPaths) =>
  `i=0; until ${asPostgres(`${p.binDir}/pg_isready -q -h /var/run/postgresql -d postgres`)}; do i=$((i+1)); ` +
  `[ $i -lt 60 ] || { echo "postgres did not start (see ${p.logFile})" >&2; exit 1; }; sleep 1; done`;

/** how long a replica waits for its upstream to come up before giving up */
export const UPSTREAM_WAIT_SECONDS = 20 * 60;

export interface CloneInput {
  paths: PgPaths;
  upstreamAddress: string;
  upstreamNodeId: number;
}

/**
 * Clones this replica from its upstream with `repmgr standby clone`, then starts it.
 * Refuses (exit 1) rather than overwrite a data directory of this cluster that is not a
 * standby (a former primary: it needs `repmgr node rejoin`, not a clone) or one that holds
 * databases other than the three an initdb creates.
 */
export function cloneCommand(c: CloneInput): string {
  const p = c.paths;
  const upstream = `host=${c.upstreamAddress} port=5432 user=${REPMGR_ROLE} dbname=${REPMGR_DATABASE} connect_timeout=5 sslmode=require`;
  return [
    'set -eu',
    'cd /',
    sh`PGDATA=${p.dataDir}`,
    sh`if [ -f ${p.standbySignal} ]; then echo "already a standby: nothing to clone"; exit 0; fi`,
    // replicas of one phase run in parallel: a cascaded replica waits for its upstream to be
    // cloned and registered (or the next deploy carries on)
    `i=0; until [ "$(${psql(`SELECT 1 FROM repmgr.nodes WHERE node_id = ${c.upstreamNodeId} AND active`, upstream)} 2>/dev/null)" = 1 ]; do`,
    `  i=$((i+1)); [ $i -le ${UPSTREAM_WAIT_SECONDS} ] || { echo "upstream node ${c.upstreamNodeId} (${c.upstreamAddress}) is not registered and running after ${UPSTREAM_WAIT_SECONDS} s" >&2; exit 1; }`,
    // the upstream usually registers within a second or two of the clone starting to wait
    '  sleep 1',
    'done',
    // whose data is this? the same system identifier as the upstream = a member of the cluster
    `up_sysid=$(${psql('SELECT system_identifier FROM pg_control_system()', upstream)})`,
    `[ -n "$up_sysid" ] || { echo "cannot read the upstream's system identifier" >&2; exit 1; }`,
    sh`my_sysid=$(LC_ALL=C ${`${p.binDir}/pg_controldata`} -D "$PGDATA" 2>/dev/null | sed -n 's/^Database system identifier: *//p' || true)`,
    'if [ "$my_sysid" = "$up_sysid" ]; then',
    `  echo "refusing to clone: $PGDATA already belongs to this cluster but is not a standby (a former primary?); rejoin it with 'repmgr node rejoin' or move the directory away" >&2`,
    '  exit 1',
    'fi',
    sh`if systemctl is-active --quiet ${p.service}; then`,
    `  extra=$(${psql("SELECT string_agg(datname, ' ') FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')")})`,
    '  if [ -n "$extra" ]; then',
    '    echo "refusing to clone: the running server on this node holds databases ($extra)" >&2',
    '    exit 1',
    '  fi',
    sh`  systemctl stop ${p.service}`,
    'fi',
    // an upstream cloned or changed in this same phase (a cascade) may allow this node's
    // replication connections a moment later than the clone starts
    `i=0; until ${psql('IDENTIFY_SYSTEM', `host=${c.upstreamAddress} port=5432 user=${ROLES.replication} dbname=replication replication=true connect_timeout=5 sslmode=require`)} >/dev/null 2>&1; do`,
    `  i=$((i+1)); [ $i -le 60 ] || { echo "${c.upstreamAddress} does not accept replication connections from this node after 60 s (its pg_hba.conf?)" >&2; exit 1; }`,
    '  sleep 1',
    'done',
    sh`install -d -o ${PG_OS_USER} -g ${PG_OS_USER} -m 0700 "$PGDATA"`,
    asPostgres(
      sh`${repmgrBin(p)} -f ${REPMGR_CONF} -d ${upstream} standby clone ` +
        sh`--upstream-node-id=${c.upstreamNodeId} --fast-checkpoint --force`,
    ),
    sh`systemctl start ${p.service}`,
    waitReady(p),
  ].join('\n');
}

/**
 * Starts (and enables) a replica's server, but only a standby: a data directory of this
 * cluster without standby.signal on a node configured as a replica is a former primary, and
 * starting it would make two primaries. It needs `repmgr node rejoin`, which deploy never runs.
 */
export function startStandbyCommand(p: PgPaths): string {
  return [
    'set -eu',
    'cd /',
    `if [ ! -f ${p.standbySignal} ]; then`,
    `  echo "refusing to start ${p.service}: ${p.dataDir} is not a standby (a former primary?); rejoin it with 'repmgr node rejoin' first" >&2`,
    '  exit 1',
    'fi',
    `systemctl enable --quiet ${p.service}`,
    `systemctl start ${p.service}`,
    waitReady(p),
  ].join('\n');
}

/** `active=<0|1> enabled=<0|1>` for the server's unit */
export function unitStateProbeCommand(p: PgPaths): string {
  return (
    `a=0; systemctl is-active --quiet ${p.service} && a=1; ` +
    `e=0; systemctl is-enabled --quiet ${p.service} 2>/dev/null && e=1; ` +
    `echo "active=$a enabled=$e"`
  );
}

/**
 * `repmgr primary register` unless this node's record exists with this conninfo (--force
 * rewrites a record whose conninfo an older tpa wrote); it must be the primary now. Creates the
 * repmgr extension in the repmgr database on the way.
 */
export function primaryRegisterCommand(p: PgPaths, nodeId: number, conninfo: string): string {
  const rec = psql(
    `SELECT type || '|' || conninfo FROM repmgr.nodes WHERE node_id = ${nodeId}`,
    REPMGR_DATABASE,
  );
  return [
    'set -eu',
    'cd /',
    waitReady(p),
    `if [ "$(${psql('SELECT pg_is_in_recovery()')})" != f ]; then echo "not a primary: cannot register it as one" >&2; exit 1; fi`,
    `rec=$(${rec} 2>/dev/null || true)`,
    sh`if [ "$rec" = ${`primary|${conninfo}`} ]; then echo "already registered"; exit 0; fi`,
    'force=; [ -z "$rec" ] || force=--force',
    `${asPostgres(sh`${repmgrBin(p)} -f ${REPMGR_CONF} primary register`)} $force`,
  ].join('\n');
}

/**
 * `repmgr standby register` (--force replaces a stale record of an earlier incarnation, or one
 * with an older conninfo), then waits up to 30 s for the record to replicate back to this node.
 */
export function standbyRegisterCommand(
  p: PgPaths,
  nodeId: number,
  upstreamNodeId: number,
  conninfo: string,
): string {
  // the upstream counts too: repmgrd that saw this node fail as a primary rewrites its record
  // as a standby of no upstream when it comes back, and then refuses to promote it later
  const mine = psql(
    `SELECT type || '|' || coalesce(upstream_node_id::text, '') || '|' || conninfo FROM repmgr.nodes WHERE node_id = ${nodeId} AND active`,
    REPMGR_DATABASE,
  );
  const want = `standby|${upstreamNodeId}|${conninfo}`;
  return [
    'set -eu',
    'cd /',
    waitReady(p),
    `if [ "$(${psql('SELECT pg_is_in_recovery()')})" != t ]; then echo "not a standby: cannot register it as one" >&2; exit 1; fi`,
    sh`if [ "$(${raw(mine)} 2>/dev/null || true)" = ${want} ]; then echo "already registered"; exit 0; fi`,
    asPostgres(
      sh`${repmgrBin(p)} -f ${REPMGR_CONF} standby register --upstream-node-id=${upstreamNodeId} --force`,
    ),
    sh`i=0; until [ "$(${raw(mine)} 2>/dev/null || true)" = ${want} ] || [ $i -ge 30 ]; do i=$((i+1)); sleep 1; done`,
  ].join('\n');
}

/** the record of this node in repmgr.nodes: `type|upstream_node_id|active`, empty if none */
export function nodeRecordProbeCommand(nodeId: number): string {
  return `${psql(
    `SELECT type, coalesce(upstream_node_id::text, ''), active, conninfo FROM repmgr.nodes WHERE node_id = ${nodeId}`,
    REPMGR_DATABASE,
  )} 2>/dev/null || true`;
}

/** the data directory as it is on disk: `pg_version=15 standby_signal=0 sysid=7312...` */
export function dataDirProbeCommand(p: PgPaths): string {
  return [
    sh`d=${p.dataDir}`,
    'v=; [ -f "$d/PG_VERSION" ] && v=$(cat "$d/PG_VERSION")',
    's=0; [ -f "$d/standby.signal" ] && s=1',
    sh`id=$(LC_ALL=C ${`${p.binDir}/pg_controldata`} -D "$d" 2>/dev/null | sed -n 's/^Database system identifier: *//p')`,
    `printf 'pg_version=%s standby_signal=%s sysid=%s\\n' "$v" "$s" "$id"`,
  ].join('; ');
}

export interface DataDirState {
  pgVersion: string;
  standbySignal: boolean;
  systemId: string;
}

export function parseDataDirProbe(raw: string | undefined): DataDirState | undefined {
  const m = /pg_version=(\S*) standby_signal=([01]) sysid=(\S*)/.exec(raw ?? '');
  if (!m) return undefined;
  return { pgVersion: m[1]!, standbySignal: m[2] === '1', systemId: m[3]! };
}

export interface NodeRecord {
  type: string;
  upstreamNodeId?: number;
  active: boolean;
  conninfo?: string;
}

export function parseNodeRecord(raw: string | undefined): NodeRecord | undefined {
  const m = /^(primary|standby|witness|bdr)\|(\d*)\|([tf])(?:\|(.*))?$/m.exec(raw ?? '');
  if (!m) return undefined;
  return {
    type: m[1]!,
    ...(m[2] ? { upstreamNodeId: Number(m[2]) } : {}),
    active: m[3] === 't',
    ...(m[4] !== undefined ? { conninfo: m[4] } : {}),
  };
}

/**
 * `repmgr cluster show` exits non-zero when a node is unreachable or not in the role the
 * metadata says; its rows (` 1 | main-1 | primary | ...`) count the registered nodes. Run once:
 * it connects to every node.
 */
export function clusterShowCheck(p: PgPaths, expectedNodes: number): string {
  const show = asPostgres(sh`${repmgrBin(p)} -f ${REPMGR_CONF} cluster show`);
  return [
    'cd /',
    `out=$(${show} 2>&1) || { printf '%s\\n' "$out" >&2; exit 1; }`,
    `n=$(printf '%s\\n' "$out" | grep -cE '^ *[0-9]+ +[|]')`,
    `[ "$n" -eq ${expectedNodes} ] || { echo "repmgr knows $n nodes, config.yml has ${expectedNodes}" >&2; exit 1; }`,
  ].join('\n');
}

export interface RebuildScriptInput {
  paths: PgPaths;
  nodeId: number;
  /** this node's conninfo, as its repmgr record has it */
  conninfo: string;
  primaryAddress: string;
  primaryNodeId: number;
  keepAsideAt?: string;
}

/**
 * A fresh standby of the primary of now, whatever the data directory holds: stop the server,
 * move the directory aside (a former primary may hold writes nobody else has) or remove it
 * (a standby's copy), then clone, start and register exactly as deploy does.
 */
export function rebuildCommand(r: RebuildScriptInput): string {
  const p = r.paths;
  return [
    'set -eu',
    'cd /',
    sh`systemctl stop ${p.service} || true`,
    r.keepAsideAt !== undefined
      ? sh`if [ -e ${p.dataDir} ]; then mv ${p.dataDir} ${r.keepAsideAt}; echo "the old data directory is kept at ${r.keepAsideAt}"; fi`
      : sh`rm -rf ${p.dataDir}`,
    `(${cloneCommand({ paths: p, upstreamAddress: r.primaryAddress, upstreamNodeId: r.primaryNodeId })})`,
    `systemctl enable --quiet ${p.service}`,
    `(${standbyRegisterCommand(p, r.nodeId, r.primaryNodeId, r.conninfo)})`,
  ].join('\n');
}
