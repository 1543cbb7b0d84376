/**
 * What deploy needs to know about each barman server, read from files in one cheap probe
 * (no `barman check`, which opens connections and takes seconds): is receive-wal running
 * (barman holds an flock on its lock file while it runs), how many WAL files are archived,
 * how many backups are complete, and which primary the server's conninfo points at now.
 */
import type { HostFacts } from '../../plan/types.ts';
import { sh } from '../../core/shell.ts';
import { BARMAN_HOME, serverConfPath } from './paths.ts';

export const BARMAN_STATE_PROBE = 'barman:state';

export interface ServerState {
  server: string;
  receiveWalRunning: boolean;
  /** lines of wals/xlog.db: WAL files (and history files) archived */
  walsArchived: number;
  /** backups with status DONE */
  backupsDone: number;
  /** epoch seconds of the newest DONE backup's backup.info, 0 when none */
  lastBackupEpoch: number;
  /** host= of the conninfo in the server's configuration file, '' when there is none */
  conninfoHost: string;
}

/** where to look; tests point it at a temporary directory */
export interface StateProbePaths {
  barmanHome: string;
  confPath: (server: string) => string;
}

const DEFAULT_PATHS: StateProbePaths = { barmanHome: BARMAN_HOME, confPath: serverConfPath };

export function stateProbeCommand(servers: string[], paths: StateProbePaths = DEFAULT_PATHS): string {
  if (servers.length === 0) return 'true';
  const lines = servers.map((s) => {
    const home = `${paths.barmanHome}/${s}`;
    const lock = `${paths.barmanHome}/.${s}-receive-wal.lock`;
    const conf = paths.confPath(s);
    return [
      sh`r=0; if [ -f ${lock} ] && ! flock -n -s ${lock} true 2>/dev/null; then r=1; fi`,
      sh`w=0; [ -f ${home}/wals/xlog.db ] && w=$(wc -l < ${home}/wals/xlog.db)`,
      sh`b=0; l=0; for f in ${home}/base/*/backup.info; do [ -f "$f" ] || continue;` +
        ` if grep -qx 'status=DONE' "$f"; then b=$((b+1)); t=$(stat -c %Y "$f"); [ "$t" -gt "$l" ] && l=$t; fi; done`,
      sh`h=''; [ -f ${conf} ] && h=$(sed -n 's/^conninfo *= *.*host=\\([^ ]*\\).*/\\1/p' ${conf} | head -n1)`,
      `echo "server=${s} receive=$r wals=$w backups=$b last=$l host=$h"`,
    ].join('\n');
  });
  return lines.join('\n');
}

export function parseStateProbe(raw: string | undefined): Map<string, ServerState> {
  const out = new Map<string, ServerState>();
  for (const line of (raw ?? '').split('\n')) {
    const kv = Object.fromEntries(
      line
        .trim()
        .split(/\s+/)
        .filter((p) => p.includes('='))
        .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
    );
    if (!kv.server) continue;
    out.set(kv.server, {
      server: kv.server,
      receiveWalRunning: kv.receive === '1',
      walsArchived: Number(kv.wals) || 0,
      backupsDone: Number(kv.backups) || 0,
      lastBackupEpoch: Number(kv.last) || 0,
      conninfoHost: kv.host ?? '',
    });
  }
  return out;
}

export function serverState(facts: HostFacts | undefined, server: string): ServerState | undefined {
  return parseStateProbe(facts?.probes[BARMAN_STATE_PROBE]).get(server);
}
