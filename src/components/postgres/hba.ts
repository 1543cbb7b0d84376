/**
 * pg_hba.conf, composed from small pure functions. Every rule is TLS (hostssl) with
 * scram-sha-256 (md5 for clients only when access.client_auth says so), except the peer rule
 * for the postgres OS user and socket rules tpa's own tools use. No `trust`, ever.
 *
 * The file has two parts, because seed 003 opens the "consumer port" last:
 *   1. infrastructure rules (replication, repmgr, barman, pgbouncer's auth user), written in
 *      phase postgres-primary / postgres-replicas by an action that keeps whatever client
 *      section the file already has (PG 15 has no `include` in pg_hba.conf; that came in 16);
 *   2. the client section between CLIENT_BEGIN and CLIENT_END, written in phase client-access
 *      by the file resource that owns the whole file (infrastructure part + client section).
 * So on a first deploy clients cannot log in until everything else is in place, and on later
 * deploys a new replica's replication rule lands before it is cloned.
 *
 * The failover manager and the pooler contribute their rules through their interfaces
 * (failoverManagerOf / poolerOf); the postgres component is the only writer of the file.
 */
import type { ClusterGroupConfig } from '../../model/schema.ts';
import type { Inventory, InventoryHost } from '../../platforms/platform.ts';
import { clientCidrs, hostCidr, type HbaMethod, type HbaRule } from './hba-rule.ts';
import { clusterNodes, ROLES } from './paths.ts';
import { failoverManagerOf } from '../failover/registry.ts';
import { poolerOf } from '../pooler/registry.ts';

export { clientCidrs, hostCidr, type HbaMethod, type HbaRule } from './hba-rule.ts';

export const HBA_HEADER =
  '# Managed by tpa: changes made here are overwritten by the next `tpa deploy`.\n' +
  '# Rules are matched top to bottom; client rules come last (phase client-access).\n';
export const CLIENT_BEGIN = '# BEGIN tpa client-access';
export const CLIENT_END = '# END tpa client-access';

/** The OS user postgres (every tpa tool runs as it) logs in over the socket by peer. */
export function baseHbaRules(): HbaRule[] {
  return [
    { type: 'local', database: 'all', user: ROLES.superuser, method: 'peer', comment: 'postgres OS user' },
  ];
}

/** Streaming replication from every node of the cluster (any node may become an upstream). */
export function replicationHbaRules(nodes: InventoryHost[]): HbaRule[] {
  return nodes.map((n, i) => ({
    type: 'hostssl',
    database: 'replication',
    user: ROLES.replication,
    address: hostCidr(n.address),
    method: 'scram-sha-256',
    ...(i === 0 ? { comment: 'streaming replication between the nodes of the cluster' } : {}),
  }));
}

/** barman connects to database postgres as `barman` and streams WAL as `streaming_barman`. */
export function barmanHbaRules(barmanHosts: InventoryHost[]): HbaRule[] {
  const scram = 'scram-sha-256' as const;
  return barmanHosts.flatMap((b, i): HbaRule[] => [
    {
      type: 'hostssl',
      database: 'postgres',
      user: ROLES.barman,
      address: hostCidr(b.address),
      method: scram,
      ...(i === 0 ? { comment: 'barman backups' } : {}),
    },
    {
      type: 'hostssl',
      database: 'replication',
      user: ROLES.barmanStreaming,
      address: hostCidr(b.address),
      method: scram,
    },
  ]);
}

/** Direct client connections: TLS only, from access.client_cidrs. */
export function directClientHbaRules(config: ClusterGroupConfig): HbaRule[] {
  const method: HbaMethod = config.access.client_auth === 'md5' ? 'md5' : 'scram-sha-256';
  return clientCidrs(config).map((cidr, i) => ({
    type: 'hostssl',
    database: 'all',
    user: 'all',
    address: cidr,
    method,
    ...(i === 0 ? { comment: 'clients (access.client_cidrs)' } : {}),
  }));
}

function clusterOf(host: InventoryHost, config: ClusterGroupConfig) {
  const cluster = config.clusters.find((c) => c.name === host.cluster);
  if (!cluster) throw new Error(`host ${host.name} belongs to no cluster of the configuration`);
  return cluster;
}

/** The barman hosts that back up this host's cluster (none when backup.mode is none or the cluster has backups: false). */
export function backupHostsFor(
  host: InventoryHost,
  config: ClusterGroupConfig,
  inventory: Inventory,
): InventoryHost[] {
  const cluster = clusterOf(host, config);
  if (config.backup.mode === 'none' || cluster.backups === false) return [];
  const barmans = inventory.hosts.filter((h) => h.kind === 'barman');
  const wanted = cluster.backup_server;
  return wanted === undefined ? barmans.slice(0, 1) : barmans.filter((b) => b.name === wanted);
}

/** Every rule except the client section, for a postgres host. */
export function infraHbaRules(
  host: InventoryHost,
  config: ClusterGroupConfig,
  inventory: Inventory,
): HbaRule[] {
  const cluster = clusterOf(host, config);
  const nodes = clusterNodes(host, inventory.hosts);
  return [
    ...baseHbaRules(),
    ...replicationHbaRules(nodes),
    ...failoverManagerOf(cluster).postgres.hbaRules(nodes),
    ...barmanHbaRules(backupHostsFor(host, config, inventory)),
    ...poolerOf(cluster).postgres.hbaRules(nodes),
  ];
}

/** The rules of the client section. */
export function clientHbaRules(host: InventoryHost, config: ClusterGroupConfig): HbaRule[] {
  const cluster = clusterOf(host, config);
  return [...poolerOf(cluster).clientHbaRules(), ...directClientHbaRules(config)];
}

export function renderHbaRule(r: HbaRule): string {
  const fields = [r.type.padEnd(8), r.database.padEnd(12), r.user.padEnd(18)];
  if (r.type !== 'local') fields.push((r.address ?? '').padEnd(20));
  else fields.push(''.padEnd(20));
  fields.push(r.method);
  const line = fields.join(' ').replace(/\s+$/, '');
  return r.comment ? `# ${r.comment}\n${line}\n` : `${line}\n`;
}

export function renderHbaRules(rules: HbaRule[]): string {
  return rules.map(renderHbaRule).join('');
}

/** Header and infrastructure rules: everything in the file before CLIENT_BEGIN. */
export function renderHbaInfra(infra: HbaRule[]): string {
  return `${HBA_HEADER}\n${renderHbaRules(infra)}\n`;
}

/** The client section, markers included. */
export function renderHbaClientSection(client: HbaRule[]): string {
  return `${CLIENT_BEGIN}\n${renderHbaRules(client)}${CLIENT_END}\n`;
}

/** The whole file as the client-access phase writes it. */
export function renderHbaFile(infra: HbaRule[], client: HbaRule[]): string {
  return renderHbaInfra(infra) + renderHbaClientSection(client);
}

/** The file as the earlier phases write it when it has no client section yet. */
export function renderHbaWithoutClients(infra: HbaRule[]): string {
  return renderHbaFile(infra, []);
}
