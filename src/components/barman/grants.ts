/**
 * The `barman` role is not a superuser. With backup_method = postgres the base backup is
 * pg_basebackup over the replication protocol (role streaming_barman, REPLICATION), so the
 * barman role only needs what `barman check`, `barman switch-wal` and restore points use
 * (barman's documented minimum for a non-superuser on PostgreSQL >= 15):
 *   - pg_read_all_settings and pg_read_all_stats (granted by the postgres component, roles.ts)
 *   - pg_checkpoint, for `switch-wal --force` (idem)
 *   - EXECUTE on pg_backup_start, pg_backup_stop, pg_switch_wal, pg_create_restore_point (here)
 * Granted once on the current primary; replicas and a promoted replica get them by replication.
 */
import type { HostFacts } from '../../plan/types.ts';
import { ROLES } from '../postgres/paths.ts';
import { psqlAsPostgres } from '../postgres/psql.ts';

export const BARMAN_GRANTS_PROBE = 'barman:grants';

/** PostgreSQL >= 15 names; tpa's schema allows no older major version. */
export const BACKUP_FUNCTIONS = [
  'pg_backup_start(text, boolean)',
  'pg_backup_stop(boolean)',
  'pg_switch_wal()',
  'pg_create_restore_point(text)',
] as const;

export function grantSql(role: string = ROLES.barman): string {
  return BACKUP_FUNCTIONS.map((f) => `GRANT EXECUTE ON FUNCTION ${f} TO ${role};`).join('\n') + '\n';
}

export function grantsProbeSql(role: string = ROLES.barman): string {
  const checks = BACKUP_FUNCTIONS.map((f) => `has_function_privilege('${role}', '${f}', 'EXECUTE')`);
  return `SELECT ${checks.join(' AND ')}`;
}

/** prints `t` when every grant is in place, `f` when one is missing, nothing when the role is absent */
export function grantsProbeCommand(role: string = ROLES.barman): string {
  return `${psqlAsPostgres({ sql: grantsProbeSql(role), onErrorStop: false })} 2>/dev/null || true`;
}

export function grantsNeeded(facts: HostFacts): boolean {
  return facts.probes[BARMAN_GRANTS_PROBE]?.trim() !== 't';
}
