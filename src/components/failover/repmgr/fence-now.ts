/**
 * The fence of a running primary: repmgrd on the primary runs this script
 * (child_nodes_disconnect_command) when fewer standbys than clusters[].failover.min_standbys
 * are attached. Fewer standbys alone is not a reason to stop: they may just be restarting or
 * down, and stopping the only primary then loses availability for nothing. The script stops
 * the server only when
 *   - no other node of the cluster answers on the network (a TCP connection to its postgres
 *     port neither opens nor is refused within PROBE_S): this node is the one cut off, and the
 *     standbys will promote one of themselves (timing.ts keeps this first); or
 *   - another node is a primary of the same system on the same or a newer timeline: a failover
 *     happened while this node was away (a frozen machine that thawed).
 * Stopping is a fast shutdown: new connections are refused and every session ends at once, so
 * neither its pooler nor a direct client can write here any more. The start guard (fence.ts)
 * keeps it down afterwards until it is rejoined as a standby. Pure: rendered from config.
 */
import type { Resource } from '../../../plan/types.ts';
import { PG_PORT, PG_SOCKET_DIR, type PgPaths } from '../../postgres/paths.ts';
import { FENCE_NOW_SCRIPT, SYSTEMCTL } from './conf.ts';
import { FENCE_CONF } from './fence.ts';
import { REJOIN_SCRIPT } from './rejoin-script.ts';
import { PROBE_S } from './timing.ts';

export { FENCE_NOW_SCRIPT };

export function renderFenceNowScript(p: PgPaths): string {
  return `#!/bin/sh
# Managed by tpa: fences this primary when it is cut off from its cluster. repmgrd runs it
# (child_nodes_disconnect_command in /etc/repmgr.conf) when too few standbys are attached.
# It stops ${p.service} when no other node answers on the network, or when another node is
# a primary on the same or a newer timeline; otherwise the standbys are merely down.
set -u
CONF=\${TPA_FENCE_CONF:-${FENCE_CONF}}
SERVICE=postgres BIN_DIR='' LOG=/dev/null MARKER=/dev/null PGPASS='' PEERS='' CONNINFO='' QUERY_TIMEOUT=8
# shellcheck disable=SC1090
if [ -r "$CONF" ]; then . "$CONF"; else exit 0; fi
PROBE=\${TPA_FENCE_PROBE:-}
STOP=\${TPA_FENCE_STOP:-sudo -n ${SYSTEMCTL} stop}
SOCKET=\${TPA_FENCE_SOCKET:-${PG_SOCKET_DIR}}
export LC_ALL=C
cd / || exit 0

log() {
  printf '%s\\n' "tpa fence: $2" >&2
  printf '%s UTC [tpa-fence] %s:  %s\\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$1" "$2" >>"$LOG" 2>/dev/null || true
}

[ -n "$PEERS" ] || exit 0
# only a primary fences itself; its timeline is the first 8 digits of its current WAL file
me=$("$BIN_DIR/psql" -X -w -A -t -q -F ' ' -h "$SOCKET" -d postgres -c \\
  "SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system()), CASE WHEN pg_is_in_recovery() THEN '-' ELSE pg_walfile_name(pg_current_wal_lsn()) END" \\
  </dev/null 2>/dev/null)
# shellcheck disable=SC2086 # three words
set -- $me
if [ $# -ne 3 ] || [ "$1" != f ]; then exit 0; fi
sysid=$2 tl=$((0x$(printf '%.8s' "$3")))

tmp=$(mktemp -d) || exit 0
trap 'rm -rf "$tmp"' EXIT
# 1. does any other node answer on the network? a refused connection is an answer too
for peer in $PEERS; do
  name=\${peer%%=*} addr=\${peer#*=}
  (
    if [ -n "$PROBE" ]; then
      "$PROBE" "$addr" ${PG_PORT} 2>"$tmp/$name.err"
    else
      # shellcheck disable=SC2016 # bash expands them, from its arguments
      timeout ${PROBE_S} bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$addr" ${PG_PORT} 2>"$tmp/$name.err"
    fi
    echo $? >"$tmp/$name.rc"
  ) </dev/null &
done
wait
reachable=''
for peer in $PEERS; do
  name=\${peer%%=*} addr=\${peer#*=}
  if [ "$(cat "$tmp/$name.rc" 2>/dev/null)" = 0 ] || grep -q 'refused' "$tmp/$name.err" 2>/dev/null; then
    reachable="$reachable $peer"
  fi
done

fence() {
  msg="fenced: $1, so this primary was stopped: nobody can write to it while another node is or becomes the primary. Rejoin it as a standby of the primary of now: tpa rejoin DIR $(hostname) (or, as root here: ${REJOIN_SCRIPT} ADDRESS-OF-THE-PRIMARY)."
  printf '%s\\n' "$msg" >"$MARKER" 2>/dev/null || true
  log FATAL "$msg"
  # shellcheck disable=SC2086 # the command and its arguments
  $STOP "$SERVICE"
  exit $?
}

if [ -z "$reachable" ]; then
  fence "too few standbys are connected and no other node of the cluster ($PEERS) answers on the network"
fi

# 2. some nodes answer: is one of them a primary of this system on the same or a newer timeline?
SQL="SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system()), CASE WHEN pg_is_in_recovery() THEN '-' ELSE pg_walfile_name(pg_current_wal_lsn()) END"
for peer in $reachable; do
  name=\${peer%%=*} addr=\${peer#*=}
  PGPASSFILE=$PGPASS timeout "$QUERY_TIMEOUT" "$BIN_DIR/psql" -X -w -A -t -q -F ' ' \\
    -d "host=$addr $CONNINFO application_name=tpa-fence" -c "$SQL" </dev/null >"$tmp/$name.answer" 2>/dev/null &
done
wait
for peer in $reachable; do
  name=\${peer%%=*} addr=\${peer#*=}
  # shellcheck disable=SC2046 # three words: in recovery, system identifier, WAL file
  set -- $(head -n 1 "$tmp/$name.answer" 2>/dev/null)
  if [ $# -ne 3 ] || [ "$1" != f ] || [ "$2" != "$sysid" ]; then continue; fi
  case $3 in [0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F]*) ;; *) continue ;; esac
  ptl=$((0x$(printf '%.8s' "$3")))
  if [ "$ptl" -ge "$tl" ]; then
    fence "$addr ($name) is a primary too (timeline $ptl; this node is on timeline $tl)"
  fi
done
log WARNING "too few standbys are connected, but other nodes answer (${'$'}{reachable# }) and none of them is a primary: carrying on as the primary"
exit 0
`;
}

/** Phase common, beside the start guard: repmgrd runs it from the first start on. */
export function fenceNowResource(p: PgPaths): Resource {
  return {
    kind: 'file',
    path: FENCE_NOW_SCRIPT,
    content: renderFenceNowScript(p),
    mode: 0o755,
    owner: 'root',
    group: 'root',
  };
}
