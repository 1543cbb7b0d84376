/**
 * What a fenced former primary runs to come back as a standby (the fence message names it):
 * `postgres-rejoin.sh ADDRESS-OF-THE-PRIMARY`, as root. It is `repmgr node rejoin
 * --force-rewind` with one step before it: pg_rewind needs a cleanly shut down data
 * directory, and a primary that lost its power was not. pg_rewind would finish crash recovery
 * itself in single-user mode, but looks for postgresql.conf in the data directory, where
 * Debian keeps none; so this runs that single-user recovery (no connections are accepted)
 * with Debian's configuration file first. The values come from the start guard's file.
 *
 * Before the rewind the primary of now is asked for a CHECKPOINT: a standby promoted seconds
 * ago writes its new timeline into pg_control only at the end of its first checkpoint, and
 * until then pg_rewind reads both servers as being on the same timeline, says "no rewind
 * required", and the node cannot follow (it then waits for its upstream forever).
 */
import { PG_OS_USER } from '../../postgres/paths.ts';
import { TPA_LIB_DIR } from './conf.ts';

export const REJOIN_SCRIPT = `${TPA_LIB_DIR}/postgres-rejoin.sh`;

/** `fenceConf`: the start guard's configuration, which has every value this needs */
export function renderRejoinScript(fenceConf: string): string {
  return `#!/bin/sh
# Managed by tpa: rejoin this node, a former primary that its start guard fenced, as a standby
# of the primary at ADDRESS:   ${REJOIN_SCRIPT} ADDRESS   (as root or ${PG_OS_USER})
# A data directory that was not shut down cleanly first finishes crash recovery in single-user
# mode (no connections), then repmgr node rejoin --force-rewind rewinds it with pg_rewind and
# starts it as a standby.
set -eu
CONF=\${TPA_FENCE_CONF:-${fenceConf}}
# shellcheck disable=SC1090
. "$CONF"
addr=\${1:-}
case $addr in '' | -*)
  echo "usage: $0 ADDRESS-OF-THE-PRIMARY" >&2
  exit 2
  ;;
esac
if [ "$(id -u)" -eq 0 ]; then exec runuser -u ${PG_OS_USER} -- "$0" "$@"; fi
cd /
if systemctl is-active --quiet "$SERVICE"; then
  echo "$SERVICE is running: this rejoins a stopped former primary (a running standby uses repmgr standby follow)" >&2
  exit 1
fi
state=$(LC_ALL=C "$BIN_DIR/pg_controldata" -D "$DATA_DIR" | sed -n 's/^Database cluster state: *//p')
case $state in
  'shut down' | 'shut down in recovery') ;;
  *)
    echo "$DATA_DIR was not shut down cleanly ($state): crash recovery in single-user mode first"
    "$BIN_DIR/postgres" --single -D "$DATA_DIR" -c config_file="$CONFIG_FILE" template1 </dev/null >/dev/null
    ;;
esac
# pg_rewind reads the primary's timeline from its pg_control (see above)
"$BIN_DIR/psql" -X -q -d "host=$addr $CONNINFO" -c CHECKPOINT </dev/null
exec "$BIN_DIR/repmgr" -f "$REPMGR_CONF" node rejoin -d "host=$addr $CONNINFO" --force-rewind
`;
}
