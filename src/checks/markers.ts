/**
 * Marker rows: `tpa test` writes a row with a unique id on the primary (directly, and through
 * every pooler) and waits for each row to appear on every replica. They live in
 * tpa_test.markers of database postgres; rows older than a day are removed on each run.
 */
import { randomBytes } from 'node:crypto';
import { psqlAsPostgres } from '../components/postgres/psql.ts';

export const MARKER_TABLE = 'tpa_test.markers';
/** serialises the CREATE ... IF NOT EXISTS of writers running at once */
const SETUP_LOCK = 7_380_117;

export const MARKER_SETUP_SQL = [
  `SELECT pg_advisory_xact_lock(${SETUP_LOCK})`,
  'CREATE SCHEMA IF NOT EXISTS tpa_test',
  `CREATE TABLE IF NOT EXISTS ${MARKER_TABLE} (id text PRIMARY KEY, via text NOT NULL, written_at timestamptz NOT NULL DEFAULT now())`,
].join('; ');

export function newMarkerId(): string {
  return `m-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

function checkId(id: string): string {
  if (!/^[a-z0-9-]{1,64}$/.test(id)) throw new Error(`bad marker id ${id}`);
  return id;
}

export function markerInsertSql(id: string, via: string): string {
  if (!/^[a-z0-9 @._:-]{1,64}$/.test(via)) throw new Error(`bad marker source ${via}`);
  return `INSERT INTO ${MARKER_TABLE} (id, via) VALUES ('${checkId(id)}', '${via}')`;
}

function localPsql(sql: string): string {
  return `${psqlAsPostgres({ sql })} </dev/null`;
}

/** On the primary, over the local socket: create the table if needed, write the marker, prune. */
export function primaryMarkerScript(id: string): string {
  const sql = [
    MARKER_SETUP_SQL,
    markerInsertSql(id, 'primary'),
    `DELETE FROM ${MARKER_TABLE} WHERE written_at < now() - interval '1 day'`,
    'SELECT pg_is_in_recovery()',
  ].join('; ');
  return `${localPsql(sql)} 2>&1`;
}

/**
 * On a replica: look for the markers every 0.2 s until all are there or the time is up.
 * Prints `found <n> <ms>` and the ids it found, one per line.
 */
export function replicaMarkerScript(ids: string[], timeoutMs: number): string {
  const list = ids.map((id) => `'${checkId(id)}'`).join(', ');
  const query = localPsql(`SELECT id FROM ${MARKER_TABLE} WHERE id IN (${list}) ORDER BY id`);
  return [
    'start=$(date +%s%N)',
    `deadline=$((start + ${Math.round(timeoutMs)} * 1000000))`,
    'while :; do',
    `  got=$( ${query} 2>/dev/null)`,
    '  n=$(printf "%s" "$got" | grep -c .)',
    `  [ "$n" -ge ${ids.length} ] && break`,
    '  [ "$(date +%s%N)" -ge "$deadline" ] && break',
    '  sleep 0.2',
    'done',
    'now=$(date +%s%N)',
    // dash misparses `$(((`: compute into a variable with spaces first
    'elapsed=$(( (now - start) / 1000000 ))',
    'echo "found $n $elapsed"',
    'printf "%s\\n" "$got"',
  ].join('\n');
}

export interface ReplicaMarkers {
  found: string[];
  waitedMs: number;
}

export function parseReplicaMarkers(stdout: string): ReplicaMarkers | undefined {
  const lines = stdout.split('\n').map((l) => l.trim());
  const i = lines.findIndex((l) => /^found \d+ \d+$/.test(l));
  if (i < 0) return undefined;
  const [, , ms] = lines[i]!.split(' ');
  return { found: lines.slice(i + 1).filter((l) => /^[a-z0-9-]+$/.test(l)), waitedMs: Number(ms) };
}
