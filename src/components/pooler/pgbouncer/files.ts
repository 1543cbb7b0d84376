/**
 * pgbouncer's files, rendered from config and inventory. Pure.
 *
 * The route to the primary is kept apart from pgbouncer.ini, in databases.ini (included by
 * it), because two writers keep it: `tpa deploy` (from facts: the node that is the primary
 * now) and the follower script on the host (when the primary moves). Both write exactly
 * renderDatabasesIni(address), so a deploy after a failover changes nothing.
 */
import {
  PG_OS_GROUP,
  PG_OS_USER,
  PG_PORT,
  PG_SOCKET_DIR,
  ROLES,
  type PgPaths,
} from '../../postgres/paths.ts';
import { hostCidr } from '../../postgres/hba-rule.ts';

export const PGBOUNCER_PORT = 6432;
export const PGBOUNCER_UNIT = 'pgbouncer';
export const PGBOUNCER_DIR = '/etc/pgbouncer';
export const PGBOUNCER_INI = `${PGBOUNCER_DIR}/pgbouncer.ini`;
export const PGBOUNCER_USERLIST = `${PGBOUNCER_DIR}/userlist.txt`;
export const PGBOUNCER_HBA = `${PGBOUNCER_DIR}/hba.conf`;
/** owned by postgres: the follower (running as postgres) replaces databases.ini in it */
export const PGBOUNCER_TPA_DIR = `${PGBOUNCER_DIR}/tpa`;
export const DATABASES_INI = `${PGBOUNCER_TPA_DIR}/databases.ini`;
export const FOLLOW_CONF = `${PGBOUNCER_TPA_DIR}/follow.conf`;
export const FOLLOW_SCRIPT = '/usr/local/lib/tpa/pgbouncer-follow.sh';
export const FOLLOW_UNIT = 'tpa-pgbouncer-follow';
export const FOLLOW_UNIT_FILE = `/etc/systemd/system/${FOLLOW_UNIT}.service`;
/** pgbouncer checks its route before it starts (a former primary's node boots pointing at itself) */
export const PGBOUNCER_DROPIN = '/etc/systemd/system/pgbouncer.service.d/tpa-follow.conf';
export const FOLLOW_LOG = '/var/log/postgresql/pgbouncer-follow.log';
/** lock and pending-reload flag of the follower */
export const FOLLOW_STATE_DIR = '/var/lib/postgresql/tpa-pgbouncer';
/** seconds between two checks of the safety-net loop */
export const FOLLOW_INTERVAL = 5;
export const PGBOUNCER_LOG = '/var/log/postgresql/pgbouncer.log';
/** the follower reloads pgbouncer with SIGHUP to the pid in it (both run as postgres) */
export const PGBOUNCER_PIDFILE = `${PG_SOCKET_DIR}/pgbouncer.pid`;
export const AUTH_QUERY = 'SELECT username, password FROM pgbouncer.get_auth($1)';

export { PG_OS_GROUP, PG_OS_USER };

/** The route file. The follower's `render` prints the same bytes (a unit test holds them equal). */
export function renderDatabasesIni(primaryAddress: string, port: number = PG_PORT): string {
  return (
    '; Managed by tpa: where pgbouncer sends every database, the current primary.\n' +
    `; Written by tpa deploy and by ${FOLLOW_SCRIPT} when the primary moves.\n` +
    '[databases]\n' +
    `* = host=${primaryAddress} port=${port}\n`
  );
}

export interface PgbouncerIniInput {
  paths: PgPaths;
  poolMode?: 'session' | 'transaction' | 'statement';
  maxClientConn?: number;
  defaultPoolSize?: number;
}

export function renderPgbouncerIni(input: PgbouncerIniInput): string {
  const p = input.paths;
  const settings: [string, string | number][] = [
    ['listen_addr', '*'],
    ['listen_port', PGBOUNCER_PORT],
    ['unix_socket_dir', PG_SOCKET_DIR],
    ['logfile', PGBOUNCER_LOG],
    ['pidfile', PGBOUNCER_PIDFILE],
    ['', ''],
    ['auth_type', 'hba'],
    ['auth_hba_file', PGBOUNCER_HBA],
    ['auth_file', PGBOUNCER_USERLIST],
    ['auth_user', ROLES.pgbouncerAuth],
    ['auth_query', AUTH_QUERY],
    ['admin_users', PG_OS_USER],
    ['stats_users', PG_OS_USER],
    ['', ''],
    ['pool_mode', input.poolMode ?? 'session'],
    ['max_client_conn', input.maxClientConn ?? 500],
    ['default_pool_size', input.defaultPoolSize ?? 20],
    ['server_reset_query', 'DISCARD ALL'],
    // after a failover, new clients reach the new primary soon after the route changes
    ['server_login_retry', 2],
    ['server_connect_timeout', 5],
    ['ignore_startup_parameters', 'extra_float_digits'],
    ['', ''],
    ['client_tls_sslmode', 'require'],
    ['client_tls_cert_file', p.serverCert],
    ['client_tls_key_file', p.serverKey],
    ['client_tls_protocols', 'secure'],
    ['server_tls_sslmode', 'require'],
    ['server_tls_protocols', 'secure'],
  ];
  const body = settings.map(([k, v]) => (k === '' ? '' : `${k} = ${v}`)).join('\n');
  return (
    ';; Managed by tpa: changes made here are overwritten by the next `tpa deploy`.\n' +
    ";; Clients must use TLS; their passwords are checked against PostgreSQL's own verifiers\n" +
    `;; (auth_query as ${ROLES.pgbouncerAuth}). The route to the primary is in ${DATABASES_INI}.\n` +
    `%include ${DATABASES_INI}\n\n` +
    '[pgbouncer]\n' +
    `${body}\n`
  );
}

export interface PgbouncerHbaInput {
  /** addresses of the cluster's nodes */
  nodeAddresses: string[];
  /** access.client_cidrs in network form (anywhere when empty: pass 0.0.0.0/0 and ::/0) */
  clientCidrs: string[];
  method: 'scram-sha-256' | 'md5';
}

/** pgbouncer's own hba (auth_type = hba): TLS and passwords for clients, peer for the console. */
export function renderPgbouncerHba(input: PgbouncerHbaInput): string {
  const row = (type: string, db: string, user: string, addr: string, method: string) =>
    `${type.padEnd(8)} ${db.padEnd(10)} ${user.padEnd(16)} ${addr.padEnd(20)} ${method}`.trimEnd();
  const lines = [
    '# Managed by tpa: changes made here are overwritten by the next `tpa deploy`.',
    '# admin console: the postgres OS user over the socket (its login waits on auth_query,',
    '# so it hangs while the primary is unreachable)',
    row('local', 'pgbouncer', PG_OS_USER, '', 'peer'),
    `# ${ROLES.pgbouncerAuth} only looks passwords up; it never logs in as a client`,
    row('hostssl', 'all', ROLES.pgbouncerAuth, '0.0.0.0/0', 'reject'),
    row('hostssl', 'all', ROLES.pgbouncerAuth, '::/0', 'reject'),
    "# the cluster's nodes (health checks, tools on the nodes)",
    ...input.nodeAddresses.map((a) => row('hostssl', 'all', 'all', hostCidr(a), 'scram-sha-256')),
    '# clients (access.client_cidrs)',
    ...input.clientCidrs.map((c) => row('hostssl', 'all', 'all', c, input.method)),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * auth_file: only the auth_user. pgbouncer logs into PostgreSQL as it to run auth_query, and
 * with SCRAM on the server side that takes the password itself (a stored SCRAM secret is only
 * usable to log in on behalf of a client that authenticated with SCRAM), hence 0600.
 */
export function renderUserlist(password: string): string {
  const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
  if (/[\r\n]/.test(password)) throw new Error('the pgbouncer password cannot contain a line break');
  return `${quote(ROLES.pgbouncerAuth)} ${quote(password)}\n`;
}

export interface FollowConfInput {
  nodeAddresses: string[];
  /** user and database the follower asks each node with (password from ~postgres/.pgpass) */
  checkUser: string;
  checkDatabase: string;
  /** the psql binary itself: Debian's Perl wrapper would cost more than the check, every few seconds */
  psql: string;
}

/** Sourced by the follower script on every check, so node changes need no restart. */
export function renderFollowConf(input: FollowConfInput): string {
  for (const v of [...input.nodeAddresses, input.checkUser, input.checkDatabase, input.psql]) {
    if (!/^[A-Za-z0-9_.:/-]+$/.test(v)) throw new Error(`unexpected characters in ${JSON.stringify(v)}`);
  }
  return [
    `# Managed by tpa: read by ${FOLLOW_SCRIPT} on every check.`,
    `NODES='${input.nodeAddresses.join(' ')}'`,
    `PG_PORT=${PG_PORT}`,
    `CHECK_USER=${input.checkUser}`,
    `CHECK_DB=${input.checkDatabase}`,
    `PSQL=${input.psql}`,
    'CONNECT_TIMEOUT=2',
    `PIDFILE=${PGBOUNCER_PIDFILE}`,
    `DATABASES_FILE=${DATABASES_INI}`,
    `STATE_DIR=${FOLLOW_STATE_DIR}`,
    `LOG=${FOLLOW_LOG}`,
    '',
  ].join('\n');
}

export function renderFollowUnit(): string {
  return `# Managed by tpa: the safety net that keeps pgbouncer on the current primary when no
# repmgr event reached this node (the event script runs the same check at once).
[Unit]
Description=tpa: keep the local pgbouncer pointed at the current primary
After=network-online.target ${PGBOUNCER_UNIT}.service
Wants=network-online.target

[Service]
Type=simple
User=${PG_OS_USER}
Group=${PG_OS_GROUP}
ExecStart=${FOLLOW_SCRIPT} --loop ${FOLLOW_INTERVAL}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}

export function renderPgbouncerDropIn(): string {
  return `# Managed by tpa: point pgbouncer at the current primary before it accepts anyone; a node
# that was the primary and comes back would otherwise route to itself until the follower runs.
[Service]
ExecStartPre=-${FOLLOW_SCRIPT} --reason "pgbouncer start"
`;
}
