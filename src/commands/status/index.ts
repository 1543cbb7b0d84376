/**
 * `tpa status DIR`: the cluster as it is now, one row per node: the role each server actually
 * has, whom it streams from, its lag, timeline and version, and where its pgbouncer sends
 * clients; per cluster with backups, its last backup, how many, the schedule and retention
 * (components/barman/overview.ts). One round trip per node and per backup host, all at once;
 * nothing is changed.
 */
import type { EventSink } from '../../core/events.ts';
import { pgPathsFor } from '../../components/postgres/paths.ts';
import { failoverManagerOf } from '../../components/failover/registry.ts';
import { poolerOf } from '../../components/pooler/registry.ts';
import {
  actualUpstream,
  clusterViews,
  nodeByAddress,
  replicaLag,
  type ClusterView,
  type Observed,
} from '../../checks/cluster-view.ts';
import { gatherObservations } from '../../checks/gather.ts';
import {
  backupOverview,
  type BackupOverview,
  type ClusterBackups,
  type LeftoverServer,
} from '../../components/barman/overview.ts';
import { connectCluster } from '../../clusterdir/connect.ts';
import { servicesOf } from '../test/index.ts';

export interface StatusRow {
  cluster: string;
  node: string;
  address: string;
  /** the role config.yml gave the node */
  configuredRole: string;
  /** what the server is now */
  role: 'primary' | 'replica' | 'unknown';
  state: 'running' | 'stopped' | 'unreachable';
  upstream?: string;
  /** streaming, catchup, ... (replicas) */
  receiver?: string;
  lagBytes?: number;
  lagSeconds?: number;
  timeline?: number;
  version?: string;
  startedAt?: string;
  /** where the node's pgbouncer sends clients (a node name when it is one) */
  pgbouncerTarget?: string;
  pgbouncer?: string;
  repmgrd?: string;
  /** the start guard refused to start the server: another node is the primary now */
  fenced?: boolean;
  /** why the node is not running / not reachable */
  detail?: string;
}

export interface StatusReport {
  group: string;
  /** cluster -> its single primary now, when there is one */
  primaries: Record<string, string | null>;
  nodes: StatusRow[];
  /** per cluster with backups: last backup, counts, schedule, retention, differences from config.yml */
  backups?: ClusterBackups[];
  /** servers on a backup host that no cluster uses there now (tpa deploy retires them) */
  backupLeftovers?: LeftoverServer[];
}

function poolerTarget(view: ClusterView, node: string): string | undefined {
  const obs = view.obs(node);
  const host = obs && poolerOf(view.cluster).routeHost(obs);
  if (!host) return undefined;
  return nodeByAddress(view, host)?.name ?? host;
}

/** Rows from observations; pure. */
export function statusRows(o: Observed): StatusReport {
  const nodes: StatusRow[] = [];
  const primaries: Record<string, string | null> = {};
  for (const view of clusterViews(o)) {
    primaries[view.cluster.name] = view.primary ?? null;
    for (const n of view.nodes) {
      const base = {
        cluster: view.cluster.name,
        node: n.name,
        address: n.address,
        configuredRole: view.cluster.nodes.find((x) => x.name === n.name)?.role ?? n.role,
      };
      const why = view.unreachable(n.name);
      if (why !== undefined) {
        nodes.push({ ...base, role: 'unknown', state: 'unreachable', detail: why });
        continue;
      }
      const obs = view.obs(n.name)!;
      const pg = obs.pg;
      const target = poolerTarget(view, n.name);
      // the first unit of each is the daemon itself (the follower etc. are not shown)
      const poolerUnit = poolerOf(view.cluster).units[0];
      const managerUnit = failoverManagerOf(view.cluster).daemonUnit;
      const state = (unit: string | undefined) => (unit === undefined ? undefined : obs.services[unit]);
      const services = {
        ...(target !== undefined ? { pgbouncerTarget: target } : {}),
        ...(state(poolerUnit) !== undefined ? { pgbouncer: state(poolerUnit) } : {}),
        ...(state(managerUnit) !== undefined ? { repmgrd: state(managerUnit) } : {}),
      };
      if (!pg) {
        nodes.push({
          ...base,
          role: 'unknown',
          state: 'stopped',
          ...services,
          ...(obs.fenced ? { fenced: true, detail: obs.fenced } : obs.pgError ? { detail: obs.pgError } : {}),
        });
        continue;
      }
      const lag = pg.inRecovery ? replicaLag(view, n.name) : {};
      const upstream = pg.inRecovery ? actualUpstream(view, n.name) : undefined;
      nodes.push({
        ...base,
        role: pg.inRecovery ? 'replica' : 'primary',
        state: 'running',
        ...(upstream !== undefined ? { upstream } : {}),
        ...(pg.walReceiver ? { receiver: pg.walReceiver.status } : {}),
        ...(lag.bytes !== undefined ? { lagBytes: lag.bytes } : {}),
        ...(lag.seconds !== undefined ? { lagSeconds: lag.seconds } : {}),
        ...(pg.timeline !== null ? { timeline: pg.timeline } : {}),
        version: pg.version.split(' ')[0]!,
        startedAt: pg.startedAt,
        ...services,
      });
    }
  }
  return { group: o.inventory.group, primaries, nodes };
}

/** the backups part of the report (omitted when the group has no backups and nothing to retire) */
export function withBackups(report: StatusReport, backups: BackupOverview): StatusReport {
  return {
    ...report,
    ...(backups.clusters.length ? { backups: backups.clusters } : {}),
    ...(backups.leftovers.length ? { backupLeftovers: backups.leftovers } : {}),
  };
}

export async function clusterStatus(dir: string, opts: { events?: EventSink } = {}): Promise<StatusReport> {
  const access = await connectCluster(dir, {
    // a dead node is reported, not waited for
    transport: { connectTimeoutMs: 5000, connectRetries: 0 },
    concurrency: 64,
    ...(opts.events ? { events: opts.events } : {}),
  });
  try {
    const paths = pgPathsFor(access.config);
    const [observed, backups] = await Promise.all([
      gatherObservations(access, {
        request: (host) => {
          const cluster = access.config.clusters.find((c) => c.name === host.cluster)!;
          return {
            paths,
            services: servicesOf(cluster, paths.service),
            // where the pooler routes; the failover manager's own view is for tpa test
            sections: poolerOf(cluster).observeSections(),
            packages: [],
          };
        },
        timeoutMs: 30_000,
      }),
      // one round trip per backup host, at the same time as the nodes'; no connection to postgres
      backupOverview(access, { timeoutMs: 30_000 }),
    ]);
    return withBackups(statusRows(observed), backups);
  } finally {
    await access.close();
  }
}
