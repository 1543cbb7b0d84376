/**
 * `tpa restore DIR --cluster C (--time T | --lsn L | --backup ID | --latest) --into NEW`:
 * point-in-time recovery into a new cluster of the group; the original keeps running.
 *
 *   1. check the target against what barman holds (range.ts): refused before anything
 *      changes, with the recoverable range
 *   2. add cluster NEW to config.yml (committed) and provision its nodes
 *   3. on NEW's primary: PostgreSQL installed, Debian's empty cluster stopped and kept aside;
 *      barman (on the backup server) gets a one-time SSH key for postgres@NEW-1
 *   4. `barman recover` with the target straight into NEW-1's data directory over SSH,
 *      promote at the target, recovery settings reset, repmgr's node records of the source
 *      cleared (deploy registers NEW's own), barman's key removed again
 *   5. `tpa deploy`: NEW is configured like any cluster (settings, TLS, pg_hba, repmgr,
 *      pgbouncer, its own barman server); its replicas are cloned from the restored primary
 * Nothing of the source cluster or its backups is touched; the empty cluster Debian created
 * on NEW-1 is moved aside, not deleted.
 */
import { UsageError } from '../../core/errors.ts';
import { pgPathsFor } from '../../components/postgres/paths.ts';
import { readConfigText } from '../../clusterdir/dir.ts';
import { addCluster, addService } from '../../clusterdir/config-edits.ts';
import { editConfig, validateEdit } from '../../clusterdir/edit-config.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';
import { backupTargets } from '../backup/barman-client.ts';
import { connectCluster, type ClusterAccess } from '../../clusterdir/connect.ts';
import { deploy } from '../deploy/index.ts';
import { provision } from '../provision/index.ts';
import { checkRestoreTarget, type AcceptedPlan } from './range.ts';
import {
  installForRecoveryCommand,
  keepDataDirAsideCommand,
  must,
  recoverIntoNode,
  restoreStamp,
  targetText,
  timed,
} from './recover.ts';
import { restoreInPlace } from './in-place.ts';
import type { RestoreReport, RestoreRequest } from './types.ts';

export type { RestoreReport, RestoreRequest };

const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

/** The new cluster's name and nodes must be new to the group. */
function checkNewName(access: ClusterAccess, into: string, replicas: number): string[] {
  if (!NAME.test(into))
    throw new UsageError(`"${into}" is not a valid cluster name`, 'lower-case letters, digits and -');
  const nodes = Array.from({ length: replicas + 1 }, (_, i) => `${into}-${i + 1}`);
  if (access.config.backup.mode === 'exclusive') nodes.push(ownBarmanName(into));
  const taken = new Set([
    ...access.config.clusters.flatMap((c) => [c.name, ...c.nodes.map((n) => n.name)]),
    ...access.config.services.map((s) => s.name),
  ]);
  const clash = [into, ...nodes].find((n) => taken.has(n));
  if (clash) throw new UsageError(`${clash} already exists in this group`, 'choose another name with --into');
  return nodes.filter((n) => n !== ownBarmanName(into));
}

/**
 * config.yml with cluster NEW added: the source's failover manager and pooler, backed up by the
 * server that holds the source's backups — or, with exclusive backups (one barman per
 * cluster), by a barman service of its own, `NEW-barman`, added with it.
 */
export function withRestoredCluster(
  text: string,
  config: ClusterGroupConfig,
  req: { source: string; into: string; nodes: string[]; server: string },
): string {
  const src = config.clusters.find((c) => c.name === req.source);
  const exclusive = config.backup.mode === 'exclusive';
  const server = exclusive ? ownBarmanName(req.into) : req.server;
  let out = addCluster(text, {
    name: req.into,
    ...(src?.failover_manager ? { failover_manager: src.failover_manager } : {}),
    ...(src?.pooler ? { pooler: src.pooler } : {}),
    backup_server: server,
    nodes: req.nodes.map((n, i) => (i === 0 ? { name: n, role: 'primary' } : { name: n, role: 'replica' })),
  });
  if (exclusive) out = addService(out, { name: server, role: 'barman' });
  return out;
}

const ownBarmanName = (into: string) => `${into}-barman`;

export async function restore(req: RestoreRequest): Promise<RestoreReport> {
  const started = Date.now();
  const events = req.events;
  if (req.inPlace) {
    if (req.into !== undefined) throw new UsageError('give either --in-place or --into, not both');
    return restoreInPlace(req);
  }
  if (!req.into) throw new UsageError('say where to restore: --into NEW_CLUSTER');
  let access = await connectCluster(req.dir, { events });
  let plan: AcceptedPlan;
  let nodes: string[];
  let serverHost: string;
  const message = `restore: new cluster ${req.into} from ${req.cluster} (${targetText(req.target)})`;
  try {
    const [target] = backupTargets(access, req.cluster);
    serverHost = target!.host.name;
    nodes = checkNewName(access, req.into, req.replicas ?? 0);
    // the config.yml edit is checked before anything changes: a refused one leaves it as it was
    const edit = { source: req.cluster, into: req.into, nodes, server: serverHost };
    validateEdit(withRestoredCluster((await readConfigText(access.dir)).text, access.config, edit), message);
    events({ kind: 'phase-started', phase: 'restore: check the target', hosts: [serverHost] });
    plan = await checkRestoreTarget(access.pool.forHost(serverHost), target!, req.target, events);
    events({ kind: 'info', message: `restoring ${plan.description}` });
  } finally {
    await access.close();
  }

  const into = req.into;
  events({ kind: 'phase-started', phase: 'restore: add and provision cluster ' + into });
  const config = access.config;
  await editConfig(
    access.dir,
    (text) => withRestoredCluster(text, config, { source: req.cluster, into, nodes, server: serverHost }),
    message,
  );
  await provision({ dir: access.dir, events });

  access = await connectCluster(access.dir, { events });
  const timings: Record<string, number> = {};
  try {
    const p = pgPathsFor(access.config);
    const primary = nodes[0]!;
    events({ kind: 'phase-started', phase: 'restore: prepare ' + primary, hosts: [primary] });
    // the packages deploy installs anyway; Debian creates an empty cluster, kept aside
    const node = access.pool.forHost(primary);
    await must(node, installForRecoveryCommand(p), 'restore: install PostgreSQL', { timeoutMs: 15 * 60_000 });
    await must(node, keepDataDirAsideCommand(p, 'empty', restoreStamp()), 'restore: prepare the new primary');
    timings.recover = await recoverIntoNode({
      access,
      server: req.cluster,
      serverHost,
      node: primary,
      plan,
      clearRepmgrNodes: true,
      events,
    });
  } finally {
    await access.close();
  }

  events({ kind: 'phase-started', phase: `restore: deploy cluster ${req.into}` });
  await timed(timings, 'deploy', () => deploy({ dir: access.dir, events }));
  return {
    ok: true,
    cluster: req.cluster,
    into: req.into,
    nodes,
    backup: plan.backup.id,
    target: targetText(req.target),
    durationMs: Date.now() - started,
    timings,
  };
}
