/**
 * What deploy waits for after it restarted a server, before it restarts the next node of the
 * cluster: the server accepts connections again and, on a standby, its WAL receiver streams.
 * Both bounded; a server that does not come back is what the engine rolls back (rollback.ts).
 */
import { quote, sh } from '../../core/shell.ts';
import { PG_OS_USER, PG_SOCKET_DIR, type PgPaths } from './paths.ts';
import { psqlAsPostgres } from './psql.ts';

/** seconds each wait may take */
export const RESTART_WAIT_S = 60;

export function restartWaitCommand(p: PgPaths): string {
  const streaming = psqlAsPostgres({
    sql: "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'",
    onErrorStop: false,
    port: false,
  });
  const ready = sh`runuser -u ${PG_OS_USER} -- ${`${p.binDir}/pg_isready`} -q -h ${PG_SOCKET_DIR} -d postgres`;
  return [
    'set -u',
    'cd /',
    `i=0; until ${ready}; do`,
    `  i=$((i+1)); [ $i -lt ${RESTART_WAIT_S} ] || { echo ${quote(`${p.service} does not accept connections ${RESTART_WAIT_S} s after its restart (see ${p.logFile})`)} >&2; exit 1; }`,
    '  sleep 1',
    'done',
    sh`[ -f ${p.standbySignal} ] || exit 0`,
    `i=0; until [ "$(${streaming} 2>/dev/null)" = 1 ]; do`,
    `  i=$((i+1)); [ $i -lt ${RESTART_WAIT_S} ] || { echo ${quote(`this standby does not stream ${RESTART_WAIT_S} s after its restart (see ${p.logFile})`)} >&2; exit 1; }`,
    '  sleep 1',
    'done',
  ].join('\n');
}
