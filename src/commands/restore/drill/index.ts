/**
 * `tpa test DIR --restore-drill`: a backup is not trusted until it has been restored. For each
 * backed-up cluster, one after the other:
 *
 *   1. a marker row with a random id written on the cluster's current primary
 *      (tpa_test.markers, via restore-drill) and its WAL archived by barman; the latest
 *      backup and every archived WAL file checked as a restore target
 *   2. a temporary cluster <cluster>-drill-<4 hex> of one node, with no failover manager,
 *      pooler or backups of its own, added to config.yml (committed) and provisioned
 *   3. PostgreSQL installed on it, Debian's empty cluster kept aside, the backup recovered
 *      into it by barman with every archived WAL file and promoted (restore/recover.ts)
 *   4. the marker row must be there; then the server stops and pg_checksums --check reads
 *      every data page against its checksum (tpa initdb's with data checksums)
 *   5. always, also on failure or interruption: the temporary cluster taken out of
 *      config.yml (byte-identical to before, committed) and provisioned away, so its machine
 *      is removed. A cleanup that fails says what is left and how to remove it.
 *
 * Nothing of the source cluster changes but the marker row (and the WAL switches that archive
 * it). While the temporary node exists, the platform lists it with the group's hosts (on lxc:
 * a line in every node's /etc/hosts, gone again with it).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationError } from '../../../core/errors.ts';
import { nullSink, type EventSink } from '../../../core/events.ts';
import { CHECKS, type CheckResult } from '../../../checks/evaluate.ts';
import { newMarkerId } from '../../../checks/markers.ts';
import { closeWalCommand } from '../../../components/barman/scripts.ts';
import { pgPathsFor } from '../../../components/postgres/paths.ts';
import { CONFIG_FILE, writeClusterFile } from '../../../clusterdir/dir.ts';
import { editConfig } from '../../../clusterdir/edit-config.ts';
import { backupTargets, onBackupHost, type BackupTarget } from '../../backup/barman-client.ts';
import { commitDirFiles } from '../../../clusterdir/commit-files.ts';
import { connectCluster, type ClusterAccess } from '../../../clusterdir/connect.ts';
import { provision } from '../../provision/index.ts';
import { checkRestoreTarget, type AcceptedPlan } from '../range.ts';
import {
  installForRecoveryCommand,
  keepDataDirAsideCommand,
  must,
  recoverIntoNode,
  restoreStamp,
} from '../recover.ts';
import {
  addDrillCluster,
  checksumsScript,
  countMarkerScript,
  drillClusterName,
  drillNodeName,
  leftoverText,
  parseChecksums,
  passDetail,
  removeDrillCluster,
  writeMarkerScript,
} from './plan.ts';
import { checkInterrupted, currentPrimary, forgetOnBarman, Interrupted, reason, step } from './steps.ts';

export const RESTORE_DRILL = 'restore-drill';
if (!CHECKS.some((x) => x.id === RESTORE_DRILL))
  CHECKS.push({
    id: RESTORE_DRILL,
    title: 'the latest backup restored into a temporary cluster: marker row and data checksums',
  });

export interface DrillOptions {
  dir: string;
  /** the clusters to drill, as drillTargets chose them */
  clusters: string[];
  events?: EventSink;
  /** aborted (Ctrl-C): the running drill stops at once and cleans up, the others do not start */
  signal?: AbortSignal;
  /** the temporary cluster's name while it is in config.yml, undefined once it is gone */
  onTemporary?: (name: string | undefined) => void;
}

/**
 * The clusters a drill restores: those named (each must exist and be backed up), or every
 * backed-up cluster. Checked before anything runs: an unknown name is a UsageError.
 */
export function drillTargets(
  access: Pick<ClusterAccess, 'config' | 'inventory'>,
  clusters?: string[],
): string[] {
  const targets: BackupTarget[] =
    clusters && clusters.length > 0
      ? [...new Set(clusters)].flatMap((c) => backupTargets(access, c))
      : backupTargets(access);
  if (targets.length === 0)
    throw new OperationError('no cluster of this group is backed up: nothing to restore', {
      step: RESTORE_DRILL,
    });
  return targets.map((t) => t.cluster.name);
}

interface SourceSide {
  plan: AcceptedPlan;
  serverHost: string;
  marker: string;
  /** every cluster, node and service name of the group */
  taken: Set<string>;
}

/** Step 1: the marker row on the primary, archived; the latest backup as the restore target. */
async function prepareSource(o: DrillOptions, cluster: string, events: EventSink): Promise<SourceSide> {
  const access = await connectCluster(o.dir, { events });
  try {
    const [target] = backupTargets(access, cluster);
    const bh = access.pool.forHost(target!.host.name);
    events({
      kind: 'phase-started',
      phase: `restore drill ${cluster}: marker row`,
      hosts: [target!.host.name],
    });
    const primary = await step(o.signal, currentPrimary(access, cluster));
    const marker = newMarkerId();
    await step(
      o.signal,
      must(access.pool.forHost(primary), writeMarkerScript(marker), 'restore drill: write the marker', {
        timeoutMs: 60_000,
      }),
    );
    const address = access.inventory.hosts.find((h) => h.name === primary)!.address;
    const closed = await step(
      o.signal,
      onBackupHost(bh, closeWalCommand(cluster, address, 120), {
        step: 'restore drill: archive the marker',
        timeoutMs: 180_000,
      }),
    );
    if (closed.exitCode !== 0)
      throw new OperationError(
        `barman did not archive the WAL holding the marker row: ${closed.stderr.trim().split('\n').slice(-3).join(' / ')}`,
        {
          host: target!.host.name,
          step: 'restore drill: archive the marker',
          hint: `tpa test ${o.dir} shows barman's checks`,
        },
      );
    const plan = await step(o.signal, checkRestoreTarget(bh, target!, { kind: 'latest' }, events));
    events({
      kind: 'info',
      message: `restore drill ${cluster}: marker ${marker} on ${primary}; restoring ${plan.description}`,
    });
    const taken = new Set([
      ...access.config.clusters.flatMap((c) => [c.name, ...c.nodes.map((n) => n.name)]),
      ...access.config.services.map((s) => s.name),
    ]);
    return { plan, serverHost: target!.host.name, marker, taken };
  } finally {
    await access.close();
  }
}

interface Restored {
  files: number;
  blocks: number;
}

/** Steps 3 and 4, on the provisioned temporary node. */
async function restoreAndVerify(
  o: DrillOptions,
  cluster: string,
  node: string,
  source: SourceSide,
  events: EventSink,
): Promise<Restored> {
  const access = await connectCluster(o.dir, { events });
  const address = access.inventory.hosts.find((h) => h.name === node)?.address;
  try {
    const p = pgPathsFor(access.config);
    const t = access.pool.forHost(node);
    events({ kind: 'phase-started', phase: `restore drill ${cluster}: recover into ${node}`, hosts: [node] });
    await step(
      o.signal,
      must(t, installForRecoveryCommand(p), 'restore drill: install PostgreSQL', { timeoutMs: 15 * 60_000 }),
    );
    await step(
      o.signal,
      must(t, keepDataDirAsideCommand(p, 'empty', restoreStamp()), 'restore drill: prepare the node'),
    );
    await step(
      o.signal,
      recoverIntoNode({
        access,
        server: cluster,
        serverHost: source.serverHost,
        node,
        plan: source.plan,
        clearRepmgrNodes: false,
        events,
      }),
    );
    events({ kind: 'phase-started', phase: `restore drill ${cluster}: verify`, hosts: [node] });
    const count = await step(
      o.signal,
      t.exec(countMarkerScript(source.marker), {
        sudo: true,
        check: false,
        timeoutMs: 60_000,
        step: 'restore drill: marker',
      }),
    );
    if (count.exitCode !== 0 || count.stdout.trim() !== '1')
      throw new OperationError(
        `the marker row ${source.marker} is not in the restored cluster (${count.stdout.trim() || count.stderr.trim().split('\n').at(-1) || `exit ${count.exitCode}`})`,
        {
          host: node,
          step: 'restore drill: marker',
          hint: "the archive is behind the primary: tpa test shows barman's WAL archiving",
        },
      );
    const sums = await step(
      o.signal,
      t.exec(checksumsScript(p), {
        sudo: true,
        check: false,
        timeoutMs: 60 * 60_000,
        step: 'restore drill: checksums',
      }),
    );
    const report = parseChecksums(sums.stdout, sums.exitCode);
    if (!report.ok) throw new OperationError(report.why, { host: node, step: 'restore drill: checksums' });
    return { files: report.files, blocks: report.blocks };
  } finally {
    if (address) await forgetOnBarman(access.pool.forHost(source.serverHost), address);
    await access.close();
  }
}

/** One cluster's drill, its cleanup always run; never throws. */
async function drillOne(
  o: DrillOptions,
  cluster: string,
): Promise<{ result: CheckResult; leftover: boolean }> {
  const events = o.events ?? nullSink;
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  const fail = (detail: string, leftover = false) => ({
    result: { check: RESTORE_DRILL, cluster, status: 'fail' as const, detail },
    leftover,
  });

  let source: SourceSide;
  try {
    source = await prepareSource(o, cluster, events);
  } catch (e) {
    return fail(`${reason(e)}; nothing was restored (${seconds()} s)`);
  }

  const name = drillClusterName(cluster, source.taken);
  const node = drillNodeName(name);
  const path = join(o.dir, CONFIG_FILE);
  let original: string;
  try {
    original = await readFile(path, 'utf8');
  } catch (e) {
    return fail(`${reason(e)}; nothing was restored`);
  }
  const written = addDrillCluster(original, { name, source: cluster });
  let inConfig = false;
  let machine: string | undefined;
  let platform = '';
  let restored: Restored | undefined;
  let failure: unknown;
  try {
    events({ kind: 'phase-started', phase: `restore drill ${cluster}: temporary cluster ${name}` });
    // validated before it is written: an edit the model refuses leaves config.yml untouched
    await editConfig(
      o.dir,
      (text) => {
        if (text !== original) throw new OperationError(`${CONFIG_FILE} changed while the drill started`);
        inConfig = true;
        return written;
      },
      `test --restore-drill: temporary cluster ${name} for backup ${source.plan.backup.id} of ${cluster}`,
    );
    o.onTemporary?.(name);
    checkInterrupted(o.signal);
    // provision is never abandoned half way: the cleanup provisions the same directory again
    const out = await provision({ dir: o.dir, events });
    platform = out.platform;
    machine = out.inventory.hosts.find((h) => h.name === node)?.platformId;
    checkInterrupted(o.signal);
    restored = await restoreAndVerify(o, cluster, node, source, events);
  } catch (e) {
    failure = e;
  }

  // the cleanup runs to its end whatever happened above
  let leftover: string | undefined;
  events({ kind: 'phase-started', phase: `restore drill ${cluster}: remove temporary cluster ${name}` });
  try {
    if (inConfig) {
      const current = await readFile(path, 'utf8');
      await writeClusterFile(o.dir, CONFIG_FILE, removeDrillCluster(current, name, { original, written }));
      inConfig = false;
      await commitDirFiles(o.dir, [CONFIG_FILE], `test --restore-drill: remove temporary cluster ${name}`);
    }
    const out = await provision({ dir: o.dir, events });
    platform = out.platform;
    if (out.inventory.hosts.some((h) => h.name === node))
      throw new OperationError(`${node} is still in the inventory`, { step: 'restore drill: cleanup' });
    o.onTemporary?.(undefined);
  } catch (e) {
    leftover = `${leftoverText({ dir: o.dir, cluster: name, node, platform, ...(machine ? { machine } : {}), inConfig })} (cleanup: ${reason(e)})`;
    events({ kind: 'warning', message: `restore drill ${cluster}: ${leftover}` });
  }

  if (failure !== undefined || restored === undefined) {
    const what = failure instanceof Interrupted ? 'interrupted' : `failed: ${reason(failure)}`;
    return fail(
      `backup ${source.plan.backup.id}: ${what}; ${leftover ?? 'temporary cluster removed'} (${seconds()} s)`,
      leftover !== undefined,
    );
  }
  if (leftover !== undefined)
    return fail(
      `backup ${source.plan.backup.id} restored and verified, but ${leftover} (${seconds()} s)`,
      true,
    );
  return {
    result: {
      check: RESTORE_DRILL,
      cluster,
      node,
      status: 'pass',
      detail: passDetail({
        backup: source.plan.backup.id,
        node,
        marker: source.marker,
        files: restored.files,
        blocks: restored.blocks,
        seconds: (Date.now() - started) / 1000,
      }),
    },
    leftover: false,
  };
}

/** The drills, one cluster after the other; a row `restore-drill` per cluster. */
export async function restoreDrills(o: DrillOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let stop: string | undefined;
  for (const cluster of o.clusters) {
    if (stop === undefined && o.signal?.aborted) stop = 'interrupted';
    if (stop !== undefined) {
      results.push({ check: RESTORE_DRILL, cluster, status: 'fail', detail: `not run: ${stop}` });
      continue;
    }
    const r = await drillOne(o, cluster);
    results.push(r.result);
    // another temporary cluster next to a leftover one: better stop and let the user look
    if (r.leftover) stop = `the drill of ${cluster} could not remove its temporary cluster`;
  }
  return results;
}
