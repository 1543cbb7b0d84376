/**
 * `tpa info DIR`: the hand-over sheet of a cluster (seed 000): its machines and roles, how
 * clients connect, how to reach the machines, the exact versions installed on each (read from
 * the hosts) and tpa's own version; per cluster with backups, its backup server, schedule and
 * retention, and whether the backup server runs with them (components/barman/overview.ts). The
 * superuser's password only when asked for.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EventSink } from '../../core/events.ts';
import { TPA_VERSION } from '../../core/version.ts';
import { PG_PORT, pgPathsFor, ROLES, SECRETS } from '../../components/postgres/paths.ts';
import { allFailoverManagers } from '../../components/failover/registry.ts';
import { allPoolers, poolerOf } from '../../components/pooler/registry.ts';
import { TLS_DIR } from '../../components/tls/names.ts';
import { gatherObservations } from '../../checks/gather.ts';
import type { Observed } from '../../checks/cluster-view.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';
import type { Inventory } from '../../platforms/platform.ts';
import { getSecret } from '../../secrets/vault.ts';
import {
  backupOverview,
  type BackupOverview,
  type ClusterBackups,
  type LeftoverServer,
} from '../../components/barman/overview.ts';
import { connectCluster, privateKeyFileFor } from '../../clusterdir/connect.ts';

export interface InfoHost {
  name: string;
  cluster?: string;
  /** role in config.yml */
  role: string;
  upstream?: string;
  /** the role the server has now, when it answered */
  actualRole?: 'primary' | 'replica' | 'stopped' | 'unreachable';
  address: string;
  instanceType: string;
  cpus: number;
  memoryMb: number;
  volumeGb: number;
  ssh: { user: string; port: number; keyFile: string; command: string };
  /** package -> installed version, read from the host */
  packages: Record<string, string>;
  /** why the versions could not be read */
  error?: string;
}

export interface InfoConnection {
  cluster: string;
  node: string;
  kind: `read-write (${string})` | 'read-only (replica)';
  uri: string;
}

export interface ClusterInfo {
  group: string;
  platform: string;
  tpaVersion: string;
  postgresVersion: number;
  clusters: {
    name: string;
    architecture: string;
    failoverManager: string;
    durability: string;
    pooler: string;
  }[];
  backup: { mode: string; schedule?: string; retention?: string };
  /** per cluster with backups: its backup server, schedule and retention, and what that server has now */
  backups: ClusterBackups[];
  /** servers tpa configured on a backup host that no cluster uses there now (tpa deploy retires them) */
  backupLeftovers?: LeftoverServer[];
  clientCidrs: string[];
  hosts: InfoHost[];
  connections: InfoConnection[];
  superuser: string;
  /** present only with showSecrets */
  password?: string;
  /** the group CA, for sslmode=verify-full */
  caFile?: string;
}

/** The packages whose versions the hand-over lists. */
export function infoPackages(config: ClusterGroupConfig): string[] {
  const p = pgPathsFor(config);
  return [
    p.package,
    `postgresql-client-${p.version}`,
    ...allFailoverManagers().flatMap((m) => m.packages(p)),
    ...allPoolers().flatMap((x) => x.packages(p)),
    'barman',
    'barman-cli',
    'openssh-server',
    'sudo',
  ];
}

/**
 * Connection strings: read-write through every node's pgbouncer, read-only on each replica.
 * TLS is required; verifying the server against the group's CA is shown beside them.
 */
export function connectionStrings(config: ClusterGroupConfig, inventory: Inventory): InfoConnection[] {
  const ssl = 'sslmode=require';
  const out: InfoConnection[] = [];
  for (const cluster of config.clusters) {
    const nodes = inventory.hosts.filter((h) => h.kind === 'postgres' && h.cluster === cluster.name);
    const pooler = poolerOf(cluster);
    if (pooler.port !== undefined) {
      for (const n of nodes) {
        out.push({
          cluster: cluster.name,
          node: n.name,
          kind: `read-write (${pooler.name})`,
          uri: `postgresql://${ROLES.superuser}@${n.address}:${pooler.port}/postgres?${ssl}`,
        });
      }
    }
    for (const n of nodes.filter((x) => x.role === 'replica')) {
      out.push({
        cluster: cluster.name,
        node: n.name,
        kind: 'read-only (replica)',
        uri: `postgresql://${ROLES.superuser}@${n.address}:${PG_PORT}/postgres?${ssl}`,
      });
    }
  }
  return out;
}

/** Pure: the info sheet from config, inventory and what the hosts answered. */
export function buildInfo(
  o: Observed,
  extra: {
    keyFiles: Record<string, string>;
    dir: string;
    caFile?: string;
    password?: string;
    backups?: BackupOverview;
  },
): ClusterInfo {
  const { config, inventory } = o;
  const hosts: InfoHost[] = inventory.hosts.map((h) => {
    const obs = o.observations[h.name];
    const why = o.unreachable[h.name];
    const actualRole: InfoHost['actualRole'] =
      why !== undefined ? 'unreachable' : !obs?.pg ? 'stopped' : obs.pg.inRecovery ? 'replica' : 'primary';
    return {
      name: h.name,
      ...(h.cluster !== undefined ? { cluster: h.cluster } : {}),
      role: h.role,
      ...(h.upstream !== undefined ? { upstream: h.upstream } : {}),
      ...(h.kind === 'postgres' ? { actualRole } : {}),
      address: h.address,
      instanceType: h.instanceType,
      cpus: h.cpus,
      memoryMb: h.memoryMb,
      volumeGb: h.volumeGb,
      ssh: {
        user: h.sshUser,
        port: h.sshPort,
        keyFile: extra.keyFiles[h.name] ?? '?',
        command: `tpa ssh ${extra.dir} ${h.name}`,
      },
      packages: obs?.packages ?? {},
      ...(why !== undefined ? { error: why } : {}),
    };
  });
  return {
    group: inventory.group,
    platform: config.platform,
    tpaVersion: TPA_VERSION,
    postgresVersion: config.postgres.version,
    clusters: config.clusters.map((c) => ({
      name: c.name,
      architecture: c.architecture,
      failoverManager: c.failover_manager,
      durability: c.durability,
      pooler: c.pooler,
    })),
    backup:
      config.backup.mode === 'none'
        ? { mode: 'none' }
        : { mode: config.backup.mode, schedule: config.backup.schedule, retention: config.backup.retention },
    backups: extra.backups?.clusters ?? [],
    ...(extra.backups?.leftovers.length ? { backupLeftovers: extra.backups.leftovers } : {}),
    clientCidrs: config.access.client_cidrs,
    hosts,
    connections: connectionStrings(config, inventory),
    superuser: ROLES.superuser,
    ...(extra.password !== undefined ? { password: extra.password } : {}),
    ...(extra.caFile !== undefined ? { caFile: extra.caFile } : {}),
  };
}

export interface InfoOptions {
  showSecrets?: boolean;
  events?: EventSink;
  /** how DIR is written in the commands shown (default: as given) */
  dirLabel?: string;
}

export async function clusterInfo(dir: string, opts: InfoOptions = {}): Promise<ClusterInfo> {
  const access = await connectCluster(dir, {
    transport: { connectTimeoutMs: 5000, connectRetries: 0 },
    concurrency: 64,
    ...(opts.events ? { events: opts.events } : {}),
  });
  try {
    const paths = pgPathsFor(access.config);
    const packages = infoPackages(access.config);
    const [observed, backups] = await Promise.all([
      gatherObservations(access, {
        hosts: access.inventory.hosts,
        request: (host) => ({
          paths,
          services: [],
          sections: [],
          packages:
            host.kind === 'postgres' ? packages : packages.filter((p) => !p.startsWith('postgresql-1')),
        }),
        timeoutMs: 30_000,
      }),
      // barman's own view of its retention (show-server) asks the primary: slower, fine here
      backupOverview(access, { showServer: true }),
    ]);
    const keyFiles: Record<string, string> = {};
    for (const h of access.inventory.hosts) {
      keyFiles[h.name] = await privateKeyFileFor(access.dir, h).catch((e: unknown) =>
        e instanceof Error ? `(${e.message})` : '?',
      );
    }
    const ca = join(access.dir, TLS_DIR, 'ca.crt');
    const password = opts.showSecrets ? await getSecret(access.dir, SECRETS.postgres) : undefined;
    return buildInfo(observed, {
      backups,
      keyFiles,
      dir: opts.dirLabel ?? dir,
      ...(existsSync(ca) ? { caFile: ca } : {}),
      ...(password !== undefined ? { password } : {}),
    });
  } finally {
    await access.close();
  }
}
