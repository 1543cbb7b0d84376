/**
 * The follower: a POSIX sh script on every pgbouncer node that points the local pgbouncer at
 * the cluster's current primary. repmgr's event script runs it after promote/follow events
 * on the node where they happen; the tpa-pgbouncer-follow unit runs it every few seconds as
 * a safety net for nodes where no event fired (a former primary that comes back, a node that
 * was down during the failover).
 *
 * Who is the primary: the reachable node that is not in recovery and writes on the highest
 * timeline (a promoted standby moves to a new timeline; a former primary that comes back
 * unfenced stays on the old one). No such node, or two on the same timeline: the route is
 * left alone and the situation logged once.
 *
 * Asking every node is a TLS login per node, on every node, every few seconds: N² logins that
 * cost a 9-node cluster more CPU than its workload. So the periodic check asks only the node
 * the route points at and is content when it still writes on the newest timeline seen; every
 * FULL_SCAN_EVERY-th check, a check after any doubt (the routed node down, in recovery, on
 * an older timeline) and every check an event or a person asks for scan all nodes.
 */
import { FOLLOW_CONF, FOLLOW_SCRIPT, renderDatabasesIni } from './files.ts';

/** the lines of renderDatabasesIni with the address and port as shell variables */
function renderFunction(): string {
  const sample = renderDatabasesIni('@ADDR@', 0).replace('port=0', 'port=@PORT@');
  const lines = sample.trimEnd().split('\n');
  const args = lines.map((l) => {
    if (l.includes("'")) throw new Error('route file lines cannot contain a single quote');
    return l.includes('@') ? `"${l.replace('@ADDR@', '$1').replace('@PORT@', '$PG_PORT')}"` : `'${l}'`;
  });
  return `render() {\n  printf '%s\\n' \\\n    ${args.join(' \\\n    ')}\n}`;
}

export function renderFollowScript(): string {
  return `#!/bin/sh
# Managed by tpa: keeps the local pgbouncer pointed at the cluster's current primary.
#   ${FOLLOW_SCRIPT} [--reason TEXT [--promoted-here]]  check once; rewrite the route and reload
#       pgbouncer when the primary moved (promoted-here: this node was just promoted: ask it first)
#   ${FOLLOW_SCRIPT} --to ADDRESS       route to that node now, without asking (tpa switchover)
#   ${FOLLOW_SCRIPT} --loop SECONDS     check forever (the tpa-pgbouncer-follow unit)
#   ${FOLLOW_SCRIPT} --periodic quick|full  one turn of the loop
#   ${FOLLOW_SCRIPT} --render ADDRESS   print the route file for ADDRESS
# The primary is the reachable node that is not in recovery and writes on the highest
# timeline. With none, or two on the same timeline, the route is left as it is.
set -u
CONF=\${TPA_PGBOUNCER_FOLLOW_CONF:-${FOLLOW_CONF}}
NODES='' PG_PORT=5432 CHECK_USER=pgbouncer_check CHECK_DB=postgres CONNECT_TIMEOUT=2 PSQL=psql
FULL_SCAN_EVERY=6 PIDFILE=/var/run/postgresql/pgbouncer.pid DATABASES_FILE='' STATE_DIR='' LOG=/dev/null
# shellcheck disable=SC1090
load_conf() { if [ -r "$CONF" ]; then . "$CONF"; fi; }

${renderFunction()}

log() {
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"
  printf '%s\\n' "$line" >&2
  printf '%s\\n' "$line" >>"$LOG" 2>/dev/null || true
}

# log a condition once, until it changes (the loop would repeat it every few seconds)
note() {
  last=$(cat "$STATE_DIR/last-note" 2>/dev/null || true)
  if [ "$last" != "$1" ]; then
    printf '%s\\n' "$1" >"$STATE_DIR/last-note" 2>/dev/null || true
    log "$1"
  fi
}

# prints "in-recovery WAL-file" of one node (f 000000020000000000000003), or fails
ask() {
  timeout 10 "$PSQL" -X -A -t -q -F ' ' </dev/null 2>/dev/null \\
    -d "host=$1 port=$PG_PORT dbname=$CHECK_DB user=$CHECK_USER connect_timeout=$CONNECT_TIMEOUT sslmode=require" \\
    -c "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN '-' ELSE pg_walfile_name(pg_current_wal_lsn()) END"
}

# the timeline a primary writes on, from ask's output; fails for a standby or a bad answer
primary_timeline() {
  # shellcheck disable=SC2086 # two words: in recovery, WAL file
  set -- $1
  [ "\${1:-}" = f ] || return 1
  case "\${2:-}" in [0-9A-Fa-f]???????*) ;; *) return 1 ;; esac
  echo $((0x$(printf '%.8s' "$2")))
}

# prints the address of the primary; exit 1: none reachable, 2: two on the same timeline.
# Every node is asked at once: a node that is down costs its connect timeout once, not per node.
find_primary() {
  answers=$(mktemp -d) || return 1
  for addr in $NODES; do
    (ask "$addr" >"$answers/$addr" || rm -f "$answers/$addr") &
  done
  wait
  best='' best_tl=-1 tie=0
  for addr in $NODES; do
    row=$(cat "$answers/$addr" 2>/dev/null) || continue
    tl=$(primary_timeline "$row") || continue
    if [ "$tl" -gt "$best_tl" ]; then
      best=$addr best_tl=$tl tie=0
    elif [ "$tl" -eq "$best_tl" ]; then
      tie=1
    fi
  done
  rm -rf "$answers"
  [ -n "$best" ] || return 1
  [ "$tie" -eq 0 ] || return 2
  printf '%s\n' "$best_tl" >"$STATE_DIR/timeline" 2>/dev/null || true
  printf '%s\n' "$best"
}
# after a promotion on this node: this node, when it writes on a newer timeline than any seen
# (a promotion is the only way to a new timeline), without waiting for the nodes that are down
promoted_here() {
  known=$(cat "$STATE_DIR/timeline" 2>/dev/null) || return 1
  for addr in $(hostname -I 2>/dev/null); do
    case " $NODES " in *" $addr "*) ;; *) continue ;; esac
    row=$(ask "$addr") || return 1
    tl=$(primary_timeline "$row") || return 1
    [ "$tl" -gt "$known" ] || return 1
    printf '%s\n' "$tl" >"$STATE_DIR/timeline" 2>/dev/null || true
    printf '%s\n' "$addr"
    return 0
  done
  return 1
}
# the quick check: the routed node still writes on the newest timeline a full scan saw, the
# route file is what it should be and no reload is pending
route_still_good() {
  route=$(current_route)
  [ -n "$route" ] && [ ! -e "$STATE_DIR/reload-pending" ] || return 1
  known=$(cat "$STATE_DIR/timeline" 2>/dev/null) || return 1
  row=$(ask "$route") || return 1
  tl=$(primary_timeline "$row") || return 1
  [ "$tl" -ge "$known" ] || return 1
  [ "$(render "$route")" = "$(cat "$DATABASES_FILE" 2>/dev/null)" ]
}

# SIGHUP, the same as RELOAD on the console, which needs a login that itself may wait on a
# dead primary (auth_query)
reload_pgbouncer() {
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  kill -HUP "$pid" 2>/dev/null
}

current_route() { sed -n 's/^\\* = host=\\([^ ]*\\) .*/\\1/p' "$DATABASES_FILE" 2>/dev/null; }

check_once() {
  reason=$1
  if [ "\${2:-}" = quick ] && route_still_good; then return 0; fi
  if [ "\${2:-}" = promoted-here ] && primary=$(promoted_here); then
    :
  elif mode=\${2:-} && [ "\${mode#to:}" != "$mode" ]; then
    # told by tpa switchover, which has just promoted it: no need to ask the nodes
    primary=\${mode#to:}
  else
    primary=$(find_primary)
    case $? in
      # in doubt the loop looks again every second (its state file), not every few seconds
      1) : >"$STATE_DIR/doubt"; note "no primary reachable; route left at $(current_route)"; return 0 ;;
      2) : >"$STATE_DIR/doubt"; note "two primaries on the same timeline (split brain?); route left at $(current_route)"; return 0 ;;
    esac
  fi
  rm -f "$STATE_DIR/doubt"
  want=$(render "$primary")
  have=$(cat "$DATABASES_FILE" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    old=$(current_route)
    tmp=$(mktemp "$DATABASES_FILE.XXXXXX") || { log "cannot write next to $DATABASES_FILE"; return 1; }
    if render "$primary" >"$tmp" && chmod 0640 "$tmp" && mv -f "$tmp" "$DATABASES_FILE"; then
      log "route: \${old:-none} -> $primary ($reason)"
      : >"$STATE_DIR/reload-pending"
    else
      rm -f "$tmp"
      log "could not replace $DATABASES_FILE"
      return 1
    fi
  fi
  note "primary: $primary"
  if [ -e "$STATE_DIR/reload-pending" ]; then
    if reload_pgbouncer; then
      rm -f "$STATE_DIR/reload-pending"
      log "pgbouncer reloaded: clients now go to $primary"
    else
      note "could not signal pgbouncer (not running?); will retry"
    fi
  fi
  return 0
}

locked_check() {
  (
    flock -w 30 9 || { log "another check holds $STATE_DIR/lock"; exit 0; }
    check_once "$@"
  ) 9>"$STATE_DIR/lock"
}

load_conf
if [ "\${1:-}" = --render ]; then
  render "\${2:?--render needs an address}"
  exit 0
fi
# the route file must stay owned by postgres, whoever runs this
if [ "$(id -u)" -eq 0 ]; then exec runuser -u postgres -- "$0" "$@"; fi

case "\${1:-}" in
  --loop)
    interval=\${2:-5} n=0
    while :; do
      load_conf
      mkdir -p "$STATE_DIR"
      if [ $((n % FULL_SCAN_EVERY)) -eq 0 ]; then mode=full; else mode=quick; fi
      if [ -e "$STATE_DIR/doubt" ]; then mode=full; fi
      locked_check "periodic check" "$mode"
      n=$((n + 1))
      if [ -e "$STATE_DIR/doubt" ]; then sleep 1; else sleep "$interval"; fi
    done
    ;;
  --reason)
    # --reason TEXT [--promoted-here]: the event script's call (promoted-here: a promotion on this node)
    mkdir -p "$STATE_DIR"
    if [ "\${3:-}" = --promoted-here ]; then locked_check "\${2:-}" promoted-here; else locked_check "\${2:-}"; fi
    ;;
  --to)
    # --to ADDRESS: route to this node of the cluster now (tpa switchover, after the promotion)
    case " $NODES " in *" \${2:-} "*) ;; *) echo "$0: \${2:-} is not a node of this cluster" >&2; exit 2 ;; esac
    mkdir -p "$STATE_DIR"
    locked_check "tpa switchover" "to:$2"
    ;;
  --periodic)
    # one turn of the loop, quick or full (for tests and for a look by hand)
    mkdir -p "$STATE_DIR"
    locked_check "periodic check" "\${2:-full}"
    ;;
  '')
    mkdir -p "$STATE_DIR"
    locked_check "manual run"
    ;;
  *)
    echo "usage: $0 [--reason TEXT [--promoted-here] | --to ADDRESS | --loop SECONDS | --periodic quick|full | --render ADDRESS]" >&2
    exit 2
    ;;
esac
`;
}
