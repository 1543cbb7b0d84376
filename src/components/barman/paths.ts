/**
 * Conventions of the barman component that operations (backup, backups, restore, test) rely
 * on. Debian's barman package: configuration in /etc/barman.conf + /etc/barman.d/*.conf,
 * everything else under ~barman (/var/lib/barman/<server>/...). One barman server per
 * cluster, named after the cluster.
 */
import type { ClusterConfig, ClusterGroupConfig } from '../../model/schema.ts';
import { backupServerOf } from '../../model/backup.ts';
import type { InventoryHost } from '../../platforms/platform.ts';
import { sh } from '../../core/shell.ts';

export const BARMAN_USER = 'barman';
export const BARMAN_GROUP = 'barman';
export const BARMAN_HOME = '/var/lib/barman';
export const BARMAN_CONF_DIR = '/etc/barman.d';
/** libpq password file of the barman OS user (0600): the barman and streaming_barman roles */
export const BARMAN_PGPASS = `${BARMAN_HOME}/.pgpass`;
/** the group's CA, so barman's connections verify the server's certificate (verify-full) */
export const BARMAN_PG_DIR = `${BARMAN_HOME}/.postgresql`;
export const BARMAN_ROOT_CERT = `${BARMAN_PG_DIR}/root.crt`;
/**
 * Scheduled backups (backup.schedule). `barman cron` (WAL archiving, receive-wal restarts,
 * retention) already runs every minute from the package's own /etc/cron.d/barman.
 */
export const BARMAN_CRON_FILE = '/etc/cron.d/tpa-barman';
export const PACKAGE_CRON_FILE = '/etc/cron.d/barman';
/** the physical replication slot pg_receivewal streams through, on the cluster's primary */
export const BARMAN_SLOT = 'barman';
/** barman's section names that a server may not take */
export const RESERVED_SERVER_NAMES = ['barman', 'all'] as const;

export function serverConfPath(server: string): string {
  return `${BARMAN_CONF_DIR}/${server}.conf`;
}

export function serverHome(server: string): string {
  return `${BARMAN_HOME}/${server}`;
}

/** The clusters whose backups this barman host keeps (shared: several, exclusive: one). */
export function clustersServedBy(host: InventoryHost, config: ClusterGroupConfig): ClusterConfig[] {
  if (host.kind !== 'barman') return [];
  return config.clusters.filter((c) => backupServerOf(config, c) === host.name);
}

/** The barman host name of a cluster, undefined when backups are off. */
export function backupHostOf(config: ClusterGroupConfig, cluster: ClusterConfig): string | undefined {
  return backupServerOf(config, cluster);
}

/**
 * barman refuses to run as anyone but its barman_user; `env -C /` because runuser keeps
 * root's working directory, which barman cannot read. One simple command, so it composes
 * with `||` and `>` like any other.
 */
export function barmanCommand(args: string[]): string {
  return sh`env -C / runuser -u ${BARMAN_USER} -- barman ${args}`;
}

/** the same, with JSON output (barman -f json, available since 2.x; Debian 12 ships 3.4) */
export function barmanJsonCommand(args: string[]): string {
  return barmanCommand(['-f', 'json', ...args]);
}
