/**
 * pgbouncer's auth_query calls pgbouncer.get_auth(username), a SECURITY DEFINER function
 * owned by postgres, so that pgbouncer_auth (LOGIN only) can fetch a client's SCRAM verifier
 * without reading pg_authid itself. pgbouncer 1.18 runs auth_query in the database the
 * client asks for, so the function is installed in every database that accepts connections,
 * template1 included (databases created later inherit it). Deploy re-installs it wherever its
 * version tag is missing or stale, e.g. in a database a customer created from template0.
 */
import { createHash } from 'node:crypto';
import { ROLES } from '../../postgres/paths.ts';
import { raw } from '../../../core/shell.ts';
import { psqlAsPostgres } from '../../postgres/psql.ts';

/**
 * Replication-only roles (REPLICATION without SUPERUSER: replicator, streaming_barman) and the
 * auth user itself are never looked up: they have no business going through the pooler. The
 * postgres superuser (which has REPLICATION too) is the customer's account and may.
 */
const BODY = `CREATE SCHEMA IF NOT EXISTS pgbouncer;
REVOKE ALL ON SCHEMA pgbouncer FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO ${ROLES.pgbouncerAuth};
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_username text)
RETURNS TABLE (username text, password text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT rolname::text, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END
  FROM pg_authid
  WHERE rolname = p_username AND rolcanlogin AND (rolsuper OR NOT rolreplication)
    AND rolname <> '${ROLES.pgbouncerAuth}'
$fn$;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO ${ROLES.pgbouncerAuth};
`;

/** changes whenever the SQL does, so a new tpa re-installs the function everywhere */
export const AUTH_FUNCTION_TAG = `tpa pgbouncer auth_query ${createHash('sha256').update(BODY).digest('hex').slice(0, 12)}`;

export const AUTH_FUNCTION_SQL = `${BODY}COMMENT ON FUNCTION pgbouncer.get_auth(text) IS '${AUTH_FUNCTION_TAG}';\n`;

export const AUTH_FUNCTION_PROBE = 'pgbouncer.auth-function';

const listDatabases = psqlAsPostgres({
  sql: 'SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1',
  onErrorStop: false,
});

/**
 * A psql script that asks every database that accepts connections for the function's tag:
 * `\connect 'db'` (quotes and backslashes doubled) then the question, per database.
 */
const PROBE_SCRIPT_SQL =
  // chr(92) is a backslash: none in the SQL, so no shell or linter reads one as an escape
  "SELECT chr(92) || 'connect ''' || replace(replace(datname, chr(92), chr(92) || chr(92)), '''', '''''') || '''' || chr(10) || " +
  "'SELECT current_database() || chr(9) || coalesce(obj_description(to_regprocedure(''pgbouncer.get_auth(text)''), ''pg_proc''), ''-'');' " +
  'FROM pg_database WHERE datallowconn ORDER BY datname';

/**
 * One line per database that accepts connections: `<name>\t<tag or ->`. Two psql processes
 * however many databases there are: it runs with every fact gathering.
 */
export function authFunctionProbeCommand(): string {
  const run = psqlAsPostgres({ onErrorStop: false, port: false });
  return `${psqlAsPostgres({ sql: PROBE_SCRIPT_SQL, onErrorStop: false })} 2>/dev/null | ${run} 2>/dev/null`;
}

/** true when a database lacks the current function, or when the probe could not tell */
export function authFunctionNeeded(raw: string | undefined): boolean {
  const lines = (raw ?? '').split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return true;
  const dbs = new Map(lines.map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)]));
  if (!dbs.has('postgres') || !dbs.has('template1')) return true;
  return [...dbs.values()].some((tag) => tag !== AUTH_FUNCTION_TAG);
}

/** runs the SQL on stdin in every database that accepts connections; primary only */
export function authFunctionCommand(): string {
  return [
    'set -eu',
    'cd /',
    `[ "$(${psqlAsPostgres({ sql: 'SELECT pg_is_in_recovery()', onErrorStop: false })})" = f ] || { echo "not the primary" >&2; exit 1; }`,
    'sql=$(cat)',
    `${listDatabases} | while IFS= read -r db; do`,
    `  printf '%s\\n' "$sql" | ${psqlAsPostgres({ db: raw('"$db"'), tuplesOnly: false, port: false })}`,
    'done',
  ].join('\n');
}
