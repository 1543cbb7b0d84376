/**
 * The config a `tpa configure` run describes, built from its options, and written as a
 * commented config.yml. Pure: reading key files and writing the directory happen in
 * commands/configure/.
 */
import { Document, isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { DEFAULT_BACKUP_SCHEDULE, DEFAULT_RETENTION, type ClusterGroupInput } from './schema.ts';
import type {
  ARCHITECTURES,
  BACKUP_MODES,
  DURABILITIES,
  FAILOVER_MANAGERS,
  PLATFORMS,
  POOLERS,
} from './schema.ts';
import { DEFAULT_INSTANCE_TYPE } from './instance-types.ts';
import { postgresVersionsFor } from './distributions.ts';
import { FIELD_DOCS } from './field-docs.ts';

export interface NewConfigOptions {
  groupName: string;
  clusterName: string;
  architecture: (typeof ARCHITECTURES)[number];
  platform: (typeof PLATFORMS)[number];
  replicas: number;
  failoverManager: (typeof FAILOVER_MANAGERS)[number];
  pooler: (typeof POOLERS)[number];
  durability: (typeof DURABILITIES)[number];
  backup: (typeof BACKUP_MODES)[number];
  backupSchedule?: string;
  retention?: string;
  clientCidrs: string[];
  /** OpenSSH public key lines */
  sshKeys: string[];
  instanceType?: string;
  volumeGb?: number;
  postgresVersion?: number;
  /** the Debian package version to pin PostgreSQL at (postgres.package_version) */
  postgresPackageVersion?: string;
  /** platform bare: one per host, nodes first (in order) then the backup server */
  addresses: string[];
}

export const BACKUP_SERVICE_NAME = 'backup-1';

/** Host names in the order configure creates them (the order --address values are taken in). */
export function newHostNames(o: Pick<NewConfigOptions, 'clusterName' | 'replicas' | 'backup'>): string[] {
  const nodes = Array.from({ length: o.replicas + 1 }, (_, i) => `${o.clusterName}-${i + 1}`);
  return o.backup === 'none' ? nodes : [...nodes, BACKUP_SERVICE_NAME];
}

export function buildNewConfig(o: NewConfigOptions): ClusterGroupInput {
  const names = newHostNames(o);
  const address = (i: number) =>
    o.platform === 'bare' && o.addresses[i] !== undefined ? { address: o.addresses[i] } : {};
  const nodes = names
    .slice(0, o.replicas + 1)
    .map((name, i) => ({ name, role: i === 0 ? ('primary' as const) : ('replica' as const), ...address(i) }));
  const withBackup = o.backup !== 'none';
  return {
    name: o.groupName,
    platform: o.platform,
    postgres: {
      version: o.postgresVersion ?? postgresVersionsFor(o.platform).at(-1) ?? 15,
      ...(o.postgresPackageVersion !== undefined ? { package_version: o.postgresPackageVersion } : {}),
    },
    defaults: {
      instance_type: o.instanceType ?? DEFAULT_INSTANCE_TYPE[o.platform],
      volume_gb: o.volumeGb ?? 20,
    },
    access: {
      client_cidrs: o.clientCidrs,
      ssh_authorized_keys: o.sshKeys,
      client_auth: 'scram-sha-256',
    },
    backup: {
      mode: o.backup,
      schedule: o.backupSchedule ?? DEFAULT_BACKUP_SCHEDULE,
      retention: o.retention ?? DEFAULT_RETENTION,
    },
    ...(o.platform === 'aws' ? { aws: { region: 'eu-west-1' } } : {}),
    clusters: [
      {
        name: o.clusterName,
        architecture: o.architecture,
        failover_manager: o.failoverManager,
        durability: o.durability,
        pooler: o.pooler,
        ...(withBackup ? { backup_server: BACKUP_SERVICE_NAME } : {}),
        nodes,
      },
    ],
    services: withBackup ? [{ name: BACKUP_SERVICE_NAME, role: 'barman', ...address(o.replicas + 1) }] : [],
  };
}

/** config.yml text: a schema line for editors, then the config with a comment on each section. */
export function renderConfigYaml(config: ClusterGroupInput, schemaRef: string): string {
  const doc = new Document(config);
  doc.commentBefore = [
    ` yaml-language-server: $schema=${schemaRef}`,
    '',
    ` tpa cluster group "${config.name}", written by tpa configure.`,
    ' Edit it, check it with `tpa validate DIR`, then `tpa provision DIR` and `tpa deploy DIR`.',
    ' Every field is described in the schema named above.',
  ].join('\n');
  const root = doc.contents as YAMLMap;
  for (const pair of root.items) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const doc = FIELD_DOCS[key];
    if (doc !== undefined) {
      pair.key.commentBefore = ` ${doc}`;
      pair.key.spaceBefore = key !== 'name';
    }
    if (isMap(pair.value)) commentChildren(pair.value, key);
  }
  // nodes and services one per line: the shape of the cluster reads at a glance
  const clusters = doc.get('clusters');
  if (isSeq(clusters)) {
    for (const c of clusters.items) {
      if (!isMap(c)) continue;
      commentChildren(c, 'clusters[]');
      const nodes = c.get('nodes');
      if (isSeq(nodes)) for (const n of nodes.items) if (isMap(n)) n.flow = true;
    }
  }
  const services = doc.get('services');
  if (isSeq(services)) for (const s of services.items) if (isMap(s)) s.flow = true;
  for (const path of [
    ['backup', 'schedule'],
    ['backup', 'retention'],
  ]) {
    const node = doc.getIn(path, true);
    if (isScalar(node)) node.type = 'QUOTE_DOUBLE';
  }
  for (const path of [
    ['access', 'client_cidrs'],
    ['access', 'ssh_authorized_keys'],
  ]) {
    const list = doc.getIn(path);
    if (isSeq(list) && list.items.length === 0) list.flow = true;
  }
  return doc.toString({ lineWidth: 0 });
}

function commentChildren(map: YAMLMap, prefix: string): void {
  for (const [i, pair] of map.items.entries()) {
    // a comment between "- " and the first key of a list item reads badly
    if (!isScalar(pair.key) || (i === 0 && prefix.endsWith('[]'))) continue;
    const doc = FIELD_DOCS[`${prefix}.${String(pair.key.value)}`];
    if (doc !== undefined && !isMap(pair.value)) pair.key.commentBefore = ` ${doc}`;
  }
}
