/**
 * SQL for pg-role and pg-database changes. The statements are idempotent (they re-check
 * inside the server) because facts may be stale by the time they run, and they travel on
 * psql's stdin: verifiers never appear in a command line.
 */
import type { Resource } from './types.ts';

/** attributes tpa manages: each is set or explicitly unset */
export const MANAGED_ROLE_ATTRIBUTES = [
  'SUPERUSER',
  'CREATEDB',
  'CREATEROLE',
  'LOGIN',
  'REPLICATION',
  'BYPASSRLS',
] as const;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('NUL byte in an SQL literal');
  return `'${value.replace(/'/g, "''")}'`;
}

export function normaliseAttributes(attrs: readonly string[]): string[] {
  const wanted = new Set(attrs.map((a) => a.trim().toUpperCase()));
  return MANAGED_ROLE_ATTRIBUTES.filter((a) => wanted.has(a));
}

/**
 * With durability sync and no standby streaming yet (first deploy, or replicas down), a commit
 * would wait forever; deploy's own catalogue changes need not wait for a standby.
 */
const NO_SYNC_WAIT = 'SET synchronous_commit = local;';

type RoleResource = Extract<Resource, { kind: 'pg-role' }>;
type DatabaseResource = Extract<Resource, { kind: 'pg-database' }>;

export function roleSql(r: RoleResource): string {
  const wanted = new Set(normaliseAttributes(r.attributes));
  const attrs = MANAGED_ROLE_ATTRIBUTES.map((a) => (wanted.has(a) ? a : `NO${a}`)).join(' ');
  const password = r.verifier === '' ? 'PASSWORD NULL' : `PASSWORD ${quoteLiteral(r.verifier)}`;
  const lines = [
    NO_SYNC_WAIT,
    // CREATE ROLE has no IF NOT EXISTS; the DO block makes it safe to repeat
    `DO $tpa$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(r.name)}) ` +
      `THEN CREATE ROLE ${quoteIdent(r.name)}; END IF; END $tpa$;`,
    `ALTER ROLE ${quoteIdent(r.name)} WITH ${attrs} ${password};`,
    ...(r.inRoles ?? []).map((g) => `GRANT ${quoteIdent(g)} TO ${quoteIdent(r.name)};`),
  ];
  if (r.name.includes('$tpa$')) throw new Error(`role name ${r.name} cannot be used`);
  return lines.join('\n') + '\n';
}

export function databaseSql(d: DatabaseResource): string {
  return (
    [
      NO_SYNC_WAIT,
      // CREATE DATABASE cannot run inside a DO block; \gexec runs it only when missing
      `SELECT format('CREATE DATABASE %I OWNER %I', ${quoteLiteral(d.name)}, ${quoteLiteral(d.owner)}) ` +
        `WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(d.name)})\\gexec`,
      `ALTER DATABASE ${quoteIdent(d.name)} OWNER TO ${quoteIdent(d.owner)};`,
    ].join('\n') + '\n'
  );
}
