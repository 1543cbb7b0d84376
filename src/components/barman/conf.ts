/**
 * The files the barman component writes on a backup server. Pure: strings in, strings out.
 * No password ever appears in barman's configuration: libpq reads them from ~barman/.pgpass.
 */
import type { ClusterGroupConfig } from '../../model/schema.ts';
import { parseRetention } from '../../model/backup.ts';
import { PG_PORT, ROLES } from '../postgres/paths.ts';
import { BARMAN_ROOT_CERT, BARMAN_SLOT, BARMAN_USER, RESERVED_SERVER_NAMES } from './paths.ts';

export const MANAGED_HEADER =
  '; Managed by tpa: changes made here are overwritten by the next `tpa deploy`.\n';

export interface ServerConfInput {
  /** the barman server name: the cluster's name */
  server: string;
  group: string;
  /** the address of the cluster's current primary */
  primaryAddress: string;
  pgVersion: number;
  /** barman's retention_policy, e.g. RECOVERY WINDOW OF 7 DAYS */
  retention: string;
}

/** libpq key=value conninfo; values here never need quoting (addresses, role names, paths) */
export function conninfo(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** TLS with the group's CA and the node certificate's address (its subjectAltName) checked. */
function tlsFields(address: string): Record<string, string | number> {
  return {
    host: address,
    port: PG_PORT,
    sslmode: 'verify-full',
    sslrootcert: BARMAN_ROOT_CERT,
    connect_timeout: 10,
  };
}

export function barmanConninfo(address: string): string {
  return conninfo({ ...tlsFields(address), user: ROLES.barman, dbname: 'postgres' });
}

export function streamingConninfo(address: string): string {
  return conninfo({ ...tlsFields(address), user: ROLES.barmanStreaming });
}

/** barman reads the retention policy case-insensitively; tpa writes the canonical upper case */
export function canonicalRetention(text: string): string {
  const r = parseRetention(text);
  if (!r) throw new Error(`"${text}" is not a barman retention policy`);
  return r.kind === 'redundancy' ? `REDUNDANCY ${r.count}` : `RECOVERY WINDOW OF ${r.count} ${r.unit}`;
}

export function assertServerName(server: string): void {
  if ((RESERVED_SERVER_NAMES as readonly string[]).includes(server)) {
    throw new Error(`a cluster named "${server}" cannot be a barman server name (barman reserves it)`);
  }
}

/** The server file for a cluster of this group, streaming from primaryAddress (deploy and restore write the same). */
export function serverConfFor(config: ClusterGroupConfig, server: string, primaryAddress: string): string {
  return renderServerConf({
    server,
    group: config.name,
    primaryAddress,
    pgVersion: config.postgres.version,
    retention: config.backup.retention,
  });
}

/**
 * One server per cluster: base backups with pg_basebackup (backup_method = postgres) and WAL
 * streamed by pg_receivewal through a replication slot that barman creates on the primary
 * (create_slot = auto, from `barman cron`). minimum_redundancy 1: retention never deletes the
 * last backup. path_prefix pins the client tools to the server's major version.
 */
export function renderServerConf(i: ServerConfInput): string {
  assertServerName(i.server);
  const lines: [string, string][] = [
    ['description', `"cluster ${i.server} of group ${i.group}"`],
    ['conninfo', barmanConninfo(i.primaryAddress)],
    ['streaming_conninfo', streamingConninfo(i.primaryAddress)],
    ['backup_method', 'postgres'],
    // a backup asked for now starts now, not after a spread checkpoint
    ['immediate_checkpoint', 'true'],
    ['streaming_archiver', 'on'],
    ['archiver', 'off'],
    ['slot_name', BARMAN_SLOT],
    ['create_slot', 'auto'],
    ['path_prefix', `/usr/lib/postgresql/${i.pgVersion}/bin`],
    ['retention_policy', canonicalRetention(i.retention)],
    ['retention_policy_mode', 'auto'],
    ['wal_retention_policy', 'main'],
    ['minimum_redundancy', '1'],
  ];
  return `${MANAGED_HEADER}[${i.server}]\n${lines.map(([k, v]) => `${k} = ${v}`).join('\n')}\n`;
}

/** libpq's .pgpass escaping: ':' and '\' */
function pgpassField(v: string): string {
  return v.replace(/[\\:]/g, (c) => `\\${c}`);
}

/** Both of barman's roles share the barman_password secret (postgres/paths.ts ROLE_SECRET). */
export function renderBarmanPgpass(password: string): string {
  const pw = pgpassField(password);
  return [
    '# Managed by tpa',
    `*:${PG_PORT}:postgres:${ROLES.barman}:${pw}`,
    `*:${PG_PORT}:replication:${ROLES.barmanStreaming}:${pw}`,
    '',
  ].join('\n');
}

/**
 * /etc/cron.d/tpa-barman: `barman backup` for every server on backup.schedule. Runs as barman;
 * -q keeps cron from mailing a success. A backup that fails is retried by the next run, and
 * `tpa test` reports a backup older than the schedule allows.
 */
export function renderCronFile(schedule: string, servers: string[], extra: string[] = []): string {
  const when = schedule.trim().split(/\s+/).join(' ');
  const lines = [
    '# Managed by tpa: scheduled barman backups (backup.schedule in config.yml).',
    '# WAL archiving and retention run every minute from /etc/cron.d/barman (`barman cron`).',
    'SHELL=/bin/sh',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ...servers.map((s) => `${when} ${BARMAN_USER} [ -x /usr/bin/barman ] && /usr/bin/barman -q backup ${s}`),
    ...extra,
    '',
  ];
  return lines.join('\n');
}
