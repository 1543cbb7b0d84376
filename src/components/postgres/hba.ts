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
 * Other components contribute rules by adding a function here and calling it from
 * infraHbaRules / clientHbaSection; the postgres component is the only writer of the file.
 */
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../../core/errors.ts';
import { parseCidr } from '../../model/cidr.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';
import type { Inventory, InventoryHost } from '../../platforms/platform.ts';
import { clusterNodes, REPMGR_DATABASE, ROLES } from './paths.ts';

export type HbaMethod = 'peer' | 'scram-sha-256' | 'md5';

export interface HbaRule {
  type: 'local' | 'host' | 'hostssl';
  database: string;
  user: string;
  /** CIDR; absent for local rules */
  address?: string;
  method: HbaMethod;
  /** shown as a comment line above the rule */
  comment?: string;
}

export const HBA_HEADER =
  '# Managed by tpa: changes made here are overwritten by the next `tpa deploy`.\n' +
  '# Rules are matched top to bottom; client rules come last (phase client-access).\n';
export const CLIENT_BEGIN = '# BEGIN tpa client-access';
export const CLIENT_END = '# END tpa client-access';

/** `10.0.3.5` -> `10.0.3.5/32`, `fd00::5` -> `fd00::5/128`. */
export function hostCidr(address: string): string {
  const parsed = ipaddr.parse(address);
  return `${parsed.toString()}/${parsed.kind() === 'ipv4' ? 32 : 128}`;
}

/** The client networks of access.client_cidrs (network form); anywhere (IPv4 and IPv6) when empty. */
export function clientCidrs(config: ClusterGroupConfig): string[] {
  const given = config.access.client_cidrs;
  if (given.length === 0) return ['0.0.0.0/0', '::/0'];
  const parsed = given.map((c) => parseCidr(c));
  const issues = parsed.flatMap((r, i) =>
    r.ok
      ? []
      : [
          {
            file: 'config.yml',
            path: `access.client_cidrs.${i}`,
            message: `${JSON.stringify(given[i])} ${r.problem}`,
            ...(r.hint ? { hint: r.hint } : {}),
          },
        ],
  );
  if (issues.length > 0) throw new ConfigError(issues);
  return [...new Set(parsed.map((r) => (r.ok ? `${r.cidr.network}/${r.cidr.prefix}` : '')))];
}

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

/** repmgr's own database and its replication connections (standby clone), nodes only. */
export function repmgrHbaRules(nodes: InventoryHost[]): HbaRule[] {
  const scram = 'scram-sha-256' as const;
  return [
    { type: 'local', database: REPMGR_DATABASE, user: ROLES.repmgr, method: scram, comment: 'repmgr' },
    { type: 'local', database: 'replication', user: ROLES.repmgr, method: scram },
    ...nodes.flatMap((n): HbaRule[] => [
      {
        type: 'hostssl',
        database: REPMGR_DATABASE,
        user: ROLES.repmgr,
        address: hostCidr(n.address),
        method: scram,
      },
      {
        type: 'hostssl',
        database: 'replication',
        user: ROLES.repmgr,
        address: hostCidr(n.address),
        method: scram,
      },
    ]),
  ];
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

/**
 * pgbouncer runs on each postgres node and reaches postgres over the unix socket. Its
 * auth_user looks users up in every database, so it must work before clients are let in.
 * With `nodes`: pgbouncer on every node forwards to the current primary over TCP + TLS
 * (pgbouncer component), both its auth_user's lookups and the clients' sessions. Clients
 * only reach pgbouncer from phase client-access on, when it starts listening.
 */
export function pgbouncerAuthHbaRules(nodes: InventoryHost[] = []): HbaRule[] {
  return [
    {
      type: 'local',
      database: 'all',
      user: ROLES.pgbouncerAuth,
      method: 'scram-sha-256',
      comment: "pgbouncer's auth_user (auth_query)",
    },
    ...nodes.map((n, i): HbaRule => ({
      type: 'hostssl',
      database: 'all',
      user: 'all',
      address: hostCidr(n.address),
      method: 'scram-sha-256',
      ...(i === 0 ? { comment: 'pgbouncer on the nodes, forwarding to the primary' } : {}),
    })),
  ];
}

/** Client traffic that arrives through pgbouncer (unix socket, the client's own password). */
export function pgbouncerClientHbaRules(): HbaRule[] {
  return [
    {
      type: 'local',
      database: 'all',
      user: 'all',
      method: 'scram-sha-256',
      comment: 'clients through pgbouncer',
    },
  ];
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
    ...(cluster.failover_manager === 'repmgr' ? repmgrHbaRules(nodes) : []),
    ...barmanHbaRules(backupHostsFor(host, config, inventory)),
    ...(cluster.pooler === 'pgbouncer' ? pgbouncerAuthHbaRules(nodes) : []),
  ];
}

/** The rules of the client section. */
export function clientHbaRules(host: InventoryHost, config: ClusterGroupConfig): HbaRule[] {
  const cluster = clusterOf(host, config);
  return [
    ...(cluster.pooler === 'pgbouncer' ? pgbouncerClientHbaRules() : []),
    ...directClientHbaRules(config),
  ];
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
