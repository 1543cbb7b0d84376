/**
 * Conventions of the postgres component that other components (repmgr, pgbouncer, barman,
 * operations) rely on. Debian layout: one cluster named `main` per host, configuration in
 * /etc/postgresql/<v>/main, data in /var/lib/postgresql/<v>/main, unit postgresql@<v>-main.
 *
 * The `main` cluster is made by tpa (createClusterCommand), not by the package: Debian's own
 * creation at install time is switched off, so a node whose packages came preinstalled in its
 * machine image gets its cluster the same way as one that installs them during deploy.
 * Replicas: that empty cluster is only a place to clone into; on a replica that has not been cloned yet (no
 * standby.signal in the data directory) the postgres component stops and disables that unit
 * in phase 'postgres-replicas' and writes the configuration (conf.d/tpa.conf, pg_hba.conf,
 * TLS files, ~postgres/.pgpass). The failover-manager component then clones into
 * dataDir (e.g. `repmgr standby clone --force`, which replaces the empty cluster's files;
 * it only ever does so while standby.signal is absent and the unit is stopped) and declares
 * the service running + enabled. So on replicas the postgres component declares NO service
 * resource: the cloner owns starting it.
 * With a failover manager that has one, the unit also carries its start guard: a data
 * directory that would start as a primary does not while another node is the primary.
 *
 * A standby's application_name (primary_conninfo) is its node name: quorum synchronous
 * replication (durability: sync) lists node names.
 *
 * Connection strings between nodes use addresses, not names: on lxc a node's own name
 * resolves to 127.0.1.1, which no pg_hba rule lets in. Every server certificate carries the
 * node's name and address (IP SAN), so sslmode=verify-full works with host=<address>.
 */
import type { InventoryHost } from '../../platforms/platform.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';
import { sh } from '../../core/shell.ts';

export const PG_CLUSTER_NAME = 'main';
export const PG_PORT = 5432;
/** the OS user that owns the data and runs every postgres tool */
export const PG_OS_USER = 'postgres';
export const PG_OS_GROUP = 'postgres';
export const PG_HOME = '/var/lib/postgresql';
export const PG_SOCKET_DIR = '/var/run/postgresql';
/** libpq password file of the postgres OS user (0600): replicator, repmgr, barman passwords */
export const PGPASS_PATH = `${PG_HOME}/.pgpass`;

export const DEFAULT_PG_VERSION = 15;

export interface PgPaths {
  version: number;
  /** postgresql-15 */
  package: string;
  /** postgresql@15-main */
  service: string;
  /** /etc/postgresql/15/main */
  configDir: string;
  /** /etc/postgresql/15/main/postgresql.conf (Debian's; includes conf.d) */
  postgresqlConf: string;
  /** /etc/postgresql/15/main/conf.d */
  confDir: string;
  /** /etc/postgresql/15/main/conf.d/tpa.conf: every setting tpa manages */
  tpaConf: string;
  /** /etc/postgresql/15/main/pg_hba.conf */
  hbaFile: string;
  /** /etc/postgresql/15/main/tls */
  tlsDir: string;
  serverCert: string;
  serverKey: string;
  caCert: string;
  /** /var/lib/postgresql/15/main */
  dataDir: string;
  /** /usr/lib/postgresql/15/bin */
  binDir: string;
  /** present in dataDir when the node runs as a standby */
  standbySignal: string;
  /** /var/log/postgresql/postgresql-15-main.log (Debian's pg_ctlcluster log) */
  logFile: string;
}

export function pgPaths(version: number = DEFAULT_PG_VERSION): PgPaths {
  const configDir = `/etc/postgresql/${version}/${PG_CLUSTER_NAME}`;
  const dataDir = `${PG_HOME}/${version}/${PG_CLUSTER_NAME}`;
  const tlsDir = `${configDir}/tls`;
  return {
    version,
    package: `postgresql-${version}`,
    service: `postgresql@${version}-${PG_CLUSTER_NAME}`,
    configDir,
    postgresqlConf: `${configDir}/postgresql.conf`,
    confDir: `${configDir}/conf.d`,
    tpaConf: `${configDir}/conf.d/tpa.conf`,
    hbaFile: `${configDir}/pg_hba.conf`,
    tlsDir,
    serverCert: `${tlsDir}/server.crt`,
    serverKey: `${tlsDir}/server.key`,
    caCert: `${tlsDir}/ca.crt`,
    dataDir,
    binDir: `/usr/lib/postgresql/${version}/bin`,
    standbySignal: `${dataDir}/standby.signal`,
    logFile: `/var/log/postgresql/postgresql-${version}-${PG_CLUSTER_NAME}.log`,
  };
}

export function pgPathsFor(config: ClusterGroupConfig): PgPaths {
  return pgPaths(config.postgres.version);
}

/**
 * Shell (root) that creates the empty `main` cluster with Debian's pg_createcluster (settings
 * of /etc/postgresql-common/createcluster.d apply: data checksums), left stopped; nothing when
 * the cluster's configuration is there already, whatever its data directory holds.
 * `locale` unset: the environment's.
 */
export function createClusterCommand(p: PgPaths, locale?: string): string {
  const opts = locale ? sh` --locale ${locale}` : '';
  return [
    'set -eu',
    sh`if [ ! -f ${p.postgresqlConf} ]; then`,
    `  pg_createcluster${opts} ${p.version} ${PG_CLUSTER_NAME} >/dev/null`,
    'fi',
  ].join('\n');
}

/** Handlers (HandlerName) for the postgres unit. */
export const reloadPostgres = (p: PgPaths) => `reload:${p.service}` as const;
export const restartPostgres = (p: PgPaths) => `restart:${p.service}` as const;

/** Database roles tpa creates on the primary (replicas get them by replication). */
export const ROLES = {
  /** superuser; its password is handed to the customer */
  superuser: 'postgres',
  /** REPLICATION LOGIN: streaming replication and pg_basebackup */
  replication: 'replicator',
  /** LOGIN only; pgbouncer's auth_user, calls a SECURITY DEFINER lookup function (pgbouncer component) */
  pgbouncerAuth: 'pgbouncer_auth',
  /**
   * LOGIN only, no grants: how the pgbouncer follower asks each node whether it is the
   * primary and how the health check logs in through pgbouncer like a client would (the
   * auth_user must never log in as a client)
   */
  pgbouncerCheck: 'pgbouncer_check',
  /** barman's connection (backup.mode != none) */
  barman: 'barman',
  /** barman's streaming (pg_receivewal) connection */
  barmanStreaming: 'streaming_barman',
} as const;

/** Names in the vault and in DeployContext.secrets. */
export const SECRETS = {
  postgres: 'postgres_password',
  replication: 'replication_password',
  repmgr: 'repmgr_password',
  barman: 'barman_password',
  pgbouncer: 'pgbouncer_password',
  pgbouncerCheck: 'pgbouncer_check_password',
} as const;

/** Which secret holds the password of which role. */
export const ROLE_SECRET: Record<string, string> = {
  [ROLES.superuser]: SECRETS.postgres,
  [ROLES.replication]: SECRETS.replication,
  [ROLES.pgbouncerAuth]: SECRETS.pgbouncer,
  [ROLES.pgbouncerCheck]: SECRETS.pgbouncerCheck,
  [ROLES.barman]: SECRETS.barman,
  [ROLES.barmanStreaming]: SECRETS.barman,
};

/** The postgres nodes of the host's cluster (itself included). */
export function clusterNodes(host: InventoryHost, hosts: InventoryHost[]): InventoryHost[] {
  return hosts.filter((h) => h.kind === 'postgres' && h.cluster === host.cluster);
}
