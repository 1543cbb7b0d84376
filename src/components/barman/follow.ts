/**
 * Backups follow the primary without tpa: a script that cron runs every minute on the backup
 * server asks every node of each cluster (as the barman role, over TLS) whether it is a
 * primary and on which timeline. When one node is a primary on the highest timeline and it
 * is not the node barman streams from, the server's conninfo is re-pointed to it and
 * receive-wal restarted; barman then creates its slot there (create_slot = auto) and
 * pg_receivewal follows the timeline switch, so no new full backup is needed.
 * A tie (two primaries on one timeline) moves nothing: that is a split brain for a human.
 * Deploy decides the same way from facts (components/topology.ts), so both write the same file.
 */
import { PG_PORT, ROLES } from '../postgres/paths.ts';
import { BARMAN_ROOT_CERT, BARMAN_USER } from './paths.ts';

export const FOLLOW_SCRIPT = '/usr/local/lib/tpa/barman-follow.sh';
export const FOLLOW_CONF = '/etc/tpa/barman-follow.conf';
export const FOLLOW_CONF_DIR = '/etc/tpa';
export const FOLLOW_LOG = '/var/log/barman/tpa-follow.log';

/** one line per server: the server name and the addresses of its cluster's nodes */
export function renderFollowConf(servers: { server: string; addresses: string[] }[]): string {
  return [
    '# Managed by tpa: the nodes barman-follow.sh asks for the primary, per barman server.',
    ...servers.map((s) => `${s.server} ${s.addresses.join(' ')}`),
    '',
  ].join('\n');
}

/** the cron line (root) that runs the follower every minute */
export function followCronLine(): string {
  return `* * * * * root [ -x ${FOLLOW_SCRIPT} ] && ${FOLLOW_SCRIPT} >>${FOLLOW_LOG} 2>&1`;
}

export function renderFollowScript(): string {
  return `#!/bin/sh
# Managed by tpa: re-points barman to the primary of each cluster (see ${FOLLOW_CONF}).
# Run by cron every minute; prints a line only when it changes something.
# (TPA_FOLLOW_CONF, TPA_BARMAN_CONF_DIR and TPA_FOLLOW_LOCK exist for tests.)
set -u
CONF=${FOLLOW_CONF}
log() { printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
b() { env -C / runuser -u ${BARMAN_USER} -- barman "$@"; }
# prints "f|<timeline>" on a primary, "t|0" on a standby, nothing when it does not answer
ask() {
  env -C / runuser -u ${BARMAN_USER} -- psql -X -A -t -q -w \\
    -d "host=$1 port=${PG_PORT} user=${ROLES.barman} dbname=postgres sslmode=verify-full sslrootcert=${BARMAN_ROOT_CERT} connect_timeout=3" \\
    -c "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN 0 ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END" \\
    2>/dev/null
}
CONF=\${TPA_FOLLOW_CONF:-$CONF}
CONF_DIR=\${TPA_BARMAN_CONF_DIR:-/etc/barman.d}
[ -f "$CONF" ] || exit 0
# one run at a time
exec 9>"\${TPA_FOLLOW_LOCK:-/run/tpa-barman-follow.lock}"
flock -n 9 || exit 0
while read -r server addrs; do
  case "$server" in '' | '#'*) continue ;; esac
  conf="$CONF_DIR/$server.conf"
  [ -f "$conf" ] || continue
  cur=$(sed -n 's/^conninfo *= *.*host=\\([^ ]*\\).*/\\1/p' "$conf" | head -n 1)
  best='' besttl=-1 tie=0
  for a in $addrs; do
    r=$(ask "$a") || continue
    case "$r" in
      f\\|*)
        tl=\${r#f|}
        if [ "$tl" -gt "$besttl" ]; then best=$a besttl=$tl tie=0
        elif [ "$tl" -eq "$besttl" ]; then tie=1; fi
        ;;
    esac
  done
  if [ -z "$best" ] || [ "$tie" -ne 0 ] || [ "$best" = "$cur" ]; then continue; fi
  tmp=$(mktemp "$conf.XXXXXX")
  awk -v old="host=$cur " -v new="host=$best " '
    /^(streaming_)?conninfo *=/ { i = index($0, old); if (i) $0 = substr($0, 1, i - 1) new substr($0, i + length(old)) }
    { print }' "$conf" >"$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$conf"
  log "$server: the primary is now $best (timeline $besttl), was $cur: restarting WAL streaming"
  b receive-wal --stop "$server" >/dev/null 2>&1 || true
  sleep 1
  b cron >/dev/null 2>&1 || true
done <"$CONF"
`;
}
