/**
 * The start guard that fences a former primary. repmgrd promotes a standby when the primary
 * goes away, but nothing stops the old primary from starting again as a primary when its
 * machine comes back (its unit is enabled, its data directory has no standby.signal): two
 * primaries. Every node of a repmgr cluster therefore gets a systemd drop-in for its server
 * unit whose ExecStartPre runs postgres-fence.sh. Only a data directory that would start as a
 * primary (neither standby.signal nor recovery.signal) is checked: the script asks every peer
 * of the cluster at once, as repmgr does (the repmgr role over TLS, password from
 * ~postgres/.pgpass), whether it is a primary. A peer that is a primary of the same system on
 * the same or a newer timeline fences this node: the start fails with the peer's name and what
 * to do (rejoin-script.ts), in the journal and the server's log, and in MARKER for tpa status
 * and tpa test.
 * Peers that do not answer never block, so a whole cluster starting at once comes up; a peer
 * on an older timeline is the stale one and is only reported.
 *
 * What does not go through the guard, by design: a standby's promotion (pg_promote on a
 * running server), standbys and restores (standby.signal / recovery.signal), and servers
 * started without systemd. Pure: the script and its files are rendered from config.
 */
import type { InventoryHost } from '../../../platforms/platform.ts';
import type { Resource } from '../../../plan/types.ts';
import { clusterNodes, PG_HOME, PG_OS_USER, PG_SOCKET_DIR, type PgPaths } from '../../postgres/paths.ts';
import { nodeConninfo, REPMGR_CONF, TPA_LIB_DIR } from './conf.ts';
import { REJOIN_SCRIPT, renderRejoinScript } from './rejoin-script.ts';

export const FENCE_SCRIPT = `${TPA_LIB_DIR}/postgres-fence.sh`;
export const FENCE_CONF_DIR = '/etc/tpa';
export const FENCE_CONF = `${FENCE_CONF_DIR}/postgres-fence.conf`;
/** the fence message while the node is fenced (removed by the next start attempt that passes) */
export const FENCE_MARKER = `${PG_SOCKET_DIR}/tpa-fenced`;
/** each peer's query gives up after this long (its connect_timeout is shorter) */
export const FENCE_QUERY_TIMEOUT_S = 8;

export const fenceDropInPath = (p: PgPaths) => `/etc/systemd/system/${p.service}.service.d/tpa-fence.conf`;

export interface FencePeer {
  name: string;
  address: string;
}

/** the cluster's other postgres nodes, in inventory order */
export function fencePeers(host: InventoryHost, hosts: InventoryHost[]): FencePeer[] {
  return clusterNodes(host, hosts)
    .filter((h) => h.name !== host.name)
    .map((h) => ({ name: h.name, address: h.address }));
}

/** repmgr's conninfo without the host, which the script puts in front per peer */
export function peerConninfoRest(): string {
  const sample = nodeConninfo('@');
  if (!sample.startsWith('host=@ ')) throw new Error(`unexpected conninfo ${sample}`);
  return sample.slice('host=@ '.length);
}

const SAFE = /^[A-Za-z0-9_.:@/=+-]+$/;

/** Sourced by the script on every start: shell assignments of plain words only. */
export function renderFenceConf(p: PgPaths, peers: FencePeer[]): string {
  const words = peers.map((x) => `${x.name}=${x.address}`);
  const rest = peerConninfoRest();
  const paths = [p.dataDir, p.binDir, p.logFile, p.service, p.postgresqlConf];
  for (const v of [...words, ...rest.split(' '), ...paths]) {
    if (!SAFE.test(v)) throw new Error(`unexpected characters in ${JSON.stringify(v)}`);
  }
  return [
    `# Managed by tpa: read by ${FENCE_SCRIPT} before ${p.service} starts.`,
    '# PEERS: the other nodes of the cluster (name=address), asked whether they are a primary.',
    `SERVICE=${p.service}`,
    `DATA_DIR=${p.dataDir}`,
    `BIN_DIR=${p.binDir}`,
    `LOG=${p.logFile}`,
    `CONFIG_FILE=${p.postgresqlConf}`,
    `REPMGR_CONF=${REPMGR_CONF}`,
    `MARKER=${FENCE_MARKER}`,
    `PGPASS=${PG_HOME}/.pgpass`,
    `PEERS='${words.join(' ')}'`,
    `CONNINFO='${rest}'`,
    `QUERY_TIMEOUT=${FENCE_QUERY_TIMEOUT_S}`,
    '',
  ].join('\n');
}

export function renderFenceDropIn(p: PgPaths): string {
  return `# Managed by tpa: a former primary must not start as a second primary after a failover.
# ${FENCE_SCRIPT} asks the other nodes (${FENCE_CONF}) before ${p.service}
# starts; it needs the network.
[Unit]
After=network-online.target
Wants=network-online.target

[Service]
ExecStartPre=${FENCE_SCRIPT}
`;
}

export function renderFenceScript(p: PgPaths): string {
  return `#!/bin/sh
# Managed by tpa: the start guard of ${p.service} (ExecStartPre of ${fenceDropInPath(p)}).
# A data directory without standby.signal and recovery.signal would start as a primary. Each
# peer in ${FENCE_CONF} is asked at once (a few seconds at most) what it is; one that is a
# primary of the same system on the same or a newer timeline means a failover happened while
# this node was away: exit 1, the server stays down. Peers that do not answer never block.
set -u
CONF=\${TPA_FENCE_CONF:-${FENCE_CONF}}
SERVICE=postgres DATA_DIR='' BIN_DIR='' LOG=/dev/null MARKER=/dev/null PGPASS='' PEERS='' CONNINFO='' QUERY_TIMEOUT=${FENCE_QUERY_TIMEOUT_S}
# shellcheck disable=SC1090
if [ -r "$CONF" ]; then . "$CONF"; else exit 0; fi
# psql as the owner of the data directory, with its .pgpass
if [ "$(id -u)" -eq 0 ]; then exec runuser -u ${PG_OS_USER} -- "$0" "$@"; fi
cd / || exit 0

log() {
  printf '%s\\n' "tpa fence: $2" >&2
  printf '%s UTC [tpa-fence] %s:  %s\\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$1" "$2" >>"$LOG" 2>/dev/null || true
}

rm -f "$MARKER" 2>/dev/null
[ -d "$DATA_DIR" ] || exit 0
if [ -e "$DATA_DIR/standby.signal" ] || [ -e "$DATA_DIR/recovery.signal" ]; then exit 0; fi
[ -n "$PEERS" ] || exit 0
control=$(LC_ALL=C "$BIN_DIR/pg_controldata" -D "$DATA_DIR" 2>/dev/null) || exit 0
sysid=$(printf '%s\\n' "$control" | sed -n 's/^Database system identifier: *//p')
[ -n "$sysid" ] || exit 0
tl=$(printf '%s\\n' "$control" | sed -n "s/^Latest checkpoint's TimeLineID: *//p")
case $tl in '' | *[!0-9]*) tl=0 ;; esac
# a promotion writes the new timeline's history file before its first checkpoint
X8='[0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F]'
for f in "$DATA_DIR"/pg_wal/$X8.history; do
  [ -e "$f" ] || continue
  h=\${f##*/}
  h=$((0x\${h%.history}))
  [ "$h" -le "$tl" ] || tl=$h
done

tmp=$(mktemp -d) || exit 0
trap 'rm -rf "$tmp"' EXIT
SQL="SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system()), CASE WHEN pg_is_in_recovery() THEN '-' ELSE pg_walfile_name(pg_current_wal_lsn()) END"
for peer in $PEERS; do
  name=\${peer%%=*} addr=\${peer#*=}
  PGPASSFILE=$PGPASS timeout "$QUERY_TIMEOUT" "$BIN_DIR/psql" -X -w -A -t -q -F ' ' \\
    -d "host=$addr $CONNINFO application_name=tpa-fence" -c "$SQL" </dev/null >"$tmp/$name" 2>/dev/null &
done
wait

fenced='' stale='' seen=''
for peer in $PEERS; do
  name=\${peer%%=*} addr=\${peer#*=}
  # shellcheck disable=SC2046 # three words: in recovery, system identifier, WAL file
  set -- $(head -n 1 "$tmp/$name" 2>/dev/null)
  if [ $# -ne 3 ]; then seen="$seen $name:no-answer"; continue; fi
  if [ "$2" != "$sysid" ]; then seen="$seen $name:other-system"; continue; fi
  if [ "$1" != f ]; then seen="$seen $name:standby"; continue; fi
  # shellcheck disable=SC2254 # X8 is a pattern
  case $3 in $X8*) ;; *) seen="$seen $name:no-answer"; continue ;; esac
  ptl=$((0x$(printf '%.8s' "$3")))
  seen="$seen $name:primary"
  if [ "$ptl" -ge "$tl" ]; then
    [ -n "$fenced" ] || fenced="$name $addr $ptl"
  else
    stale="$stale $name (timeline $ptl)"
  fi
done

if [ -n "$fenced" ]; then
  # shellcheck disable=SC2086 # name, address, timeline
  set -- $fenced
  name=$1 addr=$2 ptl=$3
  msg="fenced: $addr ($name) is the primary now (timeline $ptl; this node's data is on timeline $tl), so $SERVICE does not start as a second primary. Rejoin this node as a standby of $name (as root: ${REJOIN_SCRIPT} $addr, which runs repmgr node rejoin --force-rewind) or restore it; see tpa status."
  printf '%s\\n' "$msg" >"$MARKER" 2>/dev/null || true
  log FATAL "$msg"
  exit 1
fi
if [ -n "$stale" ]; then
  log WARNING "also running as a primary, on an older timeline than this node's $tl:$stale; that node needs a rejoin"
fi
log LOG "starting as a primary: no peer is a primary on timeline $tl or newer (peers:$seen)"
exit 0
`;
}

/** Phase common: in place before the server package is installed (its postinst starts it). */
export function fenceResources(host: InventoryHost, hosts: InventoryHost[], p: PgPaths): Resource[] {
  const root = { owner: 'root', group: 'root' };
  const dropIn = renderFenceDropIn(p);
  return [
    { kind: 'directory', path: TPA_LIB_DIR, mode: 0o755, ...root },
    { kind: 'file', path: FENCE_SCRIPT, content: renderFenceScript(p), mode: 0o755, ...root },
    { kind: 'file', path: REJOIN_SCRIPT, content: renderRejoinScript(FENCE_CONF), mode: 0o755, ...root },
    { kind: 'directory', path: FENCE_CONF_DIR, mode: 0o755, ...root },
    {
      kind: 'file',
      path: FENCE_CONF,
      content: renderFenceConf(p, fencePeers(host, hosts)),
      mode: 0o644,
      ...root,
    },
    // no restart: the drop-in only matters for the next start; the caller reloads systemd
    { kind: 'file', path: fenceDropInPath(p), content: dropIn, mode: 0o644, ...root },
  ];
}
