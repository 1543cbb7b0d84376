/**
 * `tpa test DIR`: proves the cluster works, in two rounds of one round trip per node, all
 * nodes at once. Round 1 observes every node (services, postgres, replication, repmgr) and
 * tries the client side on each (a write through its pgbouncer, connections without TLS
 * and with a wrong password, which must be refused). Round 2 writes a marker row on the
 * primary while every replica waits for it and for the rows written through the poolers.
 * Nothing else is changed on the cluster. With restoreDrill the latest backups are then
 * restored into temporary clusters and checked (restore/drill/).
 */
import { randomBytes } from 'node:crypto';
import type { EventSink } from '../../core/events.ts';
import { pgPathsFor, SECRETS } from '../../components/postgres/paths.ts';
import { failoverManagerOf } from '../../components/failover/registry.ts';
import { poolerOf } from '../../components/pooler/registry.ts';
import { clusterViews, type Observed } from '../../checks/cluster-view.ts';
import {
  DEFAULT_THRESHOLDS,
  evaluate,
  summarize,
  type CheckResult,
  type MarkerEvidence,
  type Thresholds,
} from '../../checks/evaluate.ts';
import { gatherObservations } from '../../checks/gather.ts';
import {
  newMarkerId,
  parseReplicaMarkers,
  primaryMarkerScript,
  replicaMarkerScript,
} from '../../checks/markers.ts';
import type { ClusterConfig } from '../../model/schema.ts';
import { getSecret } from '../../secrets/vault.ts';
import { OperationError } from '../../core/errors.ts';
import { backupChecks } from './backup-checks.ts';
import { connectCluster, type ClusterAccess } from '../../clusterdir/connect.ts';
import type { DrillOptions } from '../restore/drill/index.ts';

export interface TestOptions {
  events?: EventSink;
  thresholds?: Partial<Thresholds>;
  /** how long replicas get to show the marker rows; default 30 s */
  replicationTimeoutMs?: number;
  /** after the checks, restore the latest backup of each backed-up cluster (or those named) into a temporary cluster */
  restoreDrill?: Omit<DrillOptions, 'dir' | 'clusters' | 'events'> & { clusters?: string[] };
  /** checks that could not run do not make the verdict fail */
  allowSkips?: boolean;
}

export interface TestReport {
  group: string;
  ok: boolean;
  summary: { pass: number; fail: number; skip: number };
  results: CheckResult[];
  durationMs: number;
}

/** the pooler the client checks go through, when the cluster has one */
export function poolerEndpoint(cluster: ClusterConfig): { pooler?: { name: string; port: number } } {
  const { name, port } = poolerOf(cluster);
  return port === undefined ? {} : { pooler: { name, port } };
}

export function servicesOf(cluster: ClusterConfig, service: string): string[] {
  return [service, ...failoverManagerOf(cluster).units, ...poolerOf(cluster).units];
}

async function markerRound(
  access: ClusterAccess,
  observed: Observed,
  /** node -> id of the row written through its pooler in round 1 */
  poolerMarkers: Map<string, string>,
  timeoutMs: number,
): Promise<Record<string, MarkerEvidence>> {
  const out: Record<string, MarkerEvidence> = {};
  const jobs: Promise<void>[] = [];
  for (const view of clusterViews(observed)) {
    const primary = view.primary;
    if (!primary) continue;
    const written: Record<string, string> = {};
    for (const n of view.nodes) {
      const w = view.obs(n.name)?.client?.write;
      const id = poolerMarkers.get(n.name);
      if (w?.ok && id) written[`${poolerOf(view.cluster).name}@${n.name}`] = id;
    }
    const primaryId = newMarkerId();
    const evidence: MarkerEvidence = {
      written,
      primaryWrite: { ok: false, detail: 'not run' },
      replicas: {},
      timeoutMs,
    };
    out[view.cluster.name] = evidence;
    const ids = [...Object.values(written), primaryId];
    const replicas = view.nodes.filter((n) => n.name !== primary && view.obs(n.name)?.pg);
    jobs.push(
      (async () => {
        const r = await access.pool
          .forHost(primary)
          .exec(primaryMarkerScript(primaryId), {
            sudo: true,
            check: false,
            timeoutMs: 60_000,
            step: 'marker',
          })
          .catch((e: unknown) => ({ exitCode: 1, stdout: e instanceof Error ? e.message : String(e) }));
        const last = r.stdout.trim().split('\n').at(-1) ?? '';
        if (r.exitCode === 0 && last === 'f') {
          evidence.written.primary = primaryId;
          evidence.primaryWrite = { ok: true, detail: `row ${primaryId} written on ${primary}` };
        } else {
          evidence.primaryWrite = { ok: false, detail: last || `exit code ${r.exitCode}` };
        }
      })(),
    );
    for (const rep of replicas) {
      jobs.push(
        (async () => {
          try {
            const r = await access.pool.forHost(rep.name).exec(replicaMarkerScript(ids, timeoutMs), {
              sudo: true,
              check: false,
              timeoutMs: timeoutMs + 30_000,
              step: 'marker',
            });
            evidence.replicas[rep.name] = parseReplicaMarkers(r.stdout) ?? {
              error: `unexpected answer: ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 200)}`,
            };
          } catch (e) {
            evidence.replicas[rep.name] = { error: e instanceof Error ? e.message : String(e) };
          }
        })(),
      );
    }
  }
  await Promise.all(jobs);
  return out;
}

export async function testCluster(dir: string, opts: TestOptions = {}): Promise<TestReport> {
  const started = Date.now();
  const events = opts.events;
  const access = await connectCluster(dir, {
    transport: { connectTimeoutMs: 8000, connectRetries: 1 },
    concurrency: 64,
    ...(events ? { events } : {}),
  });
  // the clusters to drill are checked first: an unknown name is bad input, before anything runs
  let drill: { clusters: string[]; rows: CheckResult[] } | undefined;
  if (opts.restoreDrill) {
    const { drillTargets, RESTORE_DRILL } = await import('../restore/drill/index.ts');
    try {
      drill = { clusters: drillTargets(access, opts.restoreDrill.clusters), rows: [] };
    } catch (e) {
      if (!(e instanceof OperationError)) {
        await access.close();
        throw e;
      }
      const cluster = opts.restoreDrill.clusters?.join(',') || '*';
      drill = { clusters: [], rows: [{ check: RESTORE_DRILL, cluster, status: 'fail', detail: e.message }] };
    }
  }
  let results: CheckResult[];
  try {
    const password = await getSecret(access.dir, SECRETS.postgres);
    const paths = pgPathsFor(access.config);
    const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;
    const poolerMarkers = new Map(access.inventory.hosts.map((h) => [h.name, newMarkerId()]));
    events?.({ kind: 'phase-started', phase: 'observe', hosts: access.hosts });
    const t0 = Date.now();
    const observed = await gatherObservations(access, {
      request: (host) => {
        const cluster = access.config.clusters.find((c) => c.name === host.cluster)!;
        return {
          paths,
          services: servicesOf(cluster, paths.service),
          sections: [
            ...poolerOf(cluster).observeSections(),
            ...failoverManagerOf(cluster).observeSections(paths),
          ],
          ...poolerEndpoint(cluster),
          packages: [],
          client: { address: host.address, markerId: poolerMarkers.get(host.name)!, wrongPassword },
        };
      },
      stdin: () => `${password}\n`,
      redact: [password],
    });
    events?.({ kind: 'phase-finished', phase: 'observe', ok: true, durationMs: Date.now() - t0 });

    const timeoutMs = opts.replicationTimeoutMs ?? 30_000;
    events?.({ kind: 'phase-started', phase: 'markers' });
    const t1 = Date.now();
    const markers = await markerRound(access, observed, poolerMarkers, timeoutMs);
    events?.({ kind: 'phase-finished', phase: 'markers', ok: true, durationMs: Date.now() - t1 });

    results = evaluate({
      ...observed,
      markers,
      thresholds: { ...DEFAULT_THRESHOLDS, ...opts.thresholds },
    });
    results.push(...(await backupChecks(access)));
  } finally {
    await access.close();
  }
  if (drill && opts.restoreDrill) {
    const { restoreDrills } = await import('../restore/drill/index.ts');
    results.push(...drill.rows);
    if (drill.clusters.length > 0) {
      const { clusters: _named, ...rest } = opts.restoreDrill;
      results.push(
        ...(await restoreDrills({
          ...rest,
          dir: access.dir,
          clusters: drill.clusters,
          ...(events ? { events } : {}),
        })),
      );
    }
  }
  const s = summarize(results, { allowSkips: opts.allowSkips === true });
  return {
    group: access.inventory.group,
    ok: s.ok,
    summary: { pass: s.pass, fail: s.fail, skip: s.skip },
    results,
    durationMs: Date.now() - started,
  };
}
