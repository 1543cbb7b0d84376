/**
 * `tpa remove-cluster DIR NAME --yes`: a cluster leaves the group. Refused (exit 2, nothing
 * changed) for an unknown name and for the group's only cluster (deprovision removes a group).
 * config.yml loses it (a commit: "remove-cluster: NAME ..."), provision destroys its machines
 * and deploy retires it on the backup server: its backups stay there (barman's server section
 * goes, its base backups and WAL do not), as for every backup server no cluster uses any more.
 */
import type { EventSink } from '../../core/events.ts';
import { UsageError } from '../../core/errors.ts';
import { loadClusterConfig } from '../../clusterdir/dir.ts';
import { editConfig } from '../../clusterdir/edit-config.ts';
import { removeCluster } from '../../clusterdir/config-edits.ts';
import { convergeAfterEdit } from '../converge.ts';
import { requireConfirmation, type Confirmation } from '../confirm.ts';

export interface RemoveClusterRequest extends Confirmation {
  dir: string;
  name: string;
  events: EventSink;
}

export interface RemoveClusterReport {
  cluster: string;
  nodes: string[];
  /** where its backups stay */
  backupServer?: string;
  commit: string | null;
  durationMs: number;
}

export async function removeClusterOperation(req: RemoveClusterRequest): Promise<RemoveClusterReport> {
  const started = Date.now();
  const { config } = await loadClusterConfig(req.dir);
  const cluster = config.clusters.find((c) => c.name === req.name);
  if (!cluster)
    throw new UsageError(
      `no cluster ${req.name} in this group`,
      `the clusters are: ${config.clusters.map((c) => c.name).join(', ')}`,
    );
  if (config.clusters.length === 1)
    throw new UsageError(
      `${req.name} is the only cluster of this group`,
      'a group keeps at least one cluster; tpa deprovision DIR removes the whole group',
    );
  const nodes = cluster.nodes.map((n) => n.name);
  await requireConfirmation(
    req,
    'remove-cluster destroys machines',
    `remove cluster ${req.name} and destroy ${nodes.join(', ')}${cluster.backup_server ? ` (its backups stay on ${cluster.backup_server})` : ''}?`,
  );
  const edit = await editConfig(
    req.dir,
    (text) => removeCluster(text, req.name),
    `remove-cluster: ${req.name} (${nodes.join(', ')})`,
  );
  await convergeAfterEdit(req.dir, req.events, {
    operation: 'remove-cluster',
    change: `the removal of cluster ${req.name}`,
    commit: edit.commit,
  });
  return {
    cluster: req.name,
    nodes,
    ...(cluster.backup_server ? { backupServer: cluster.backup_server } : {}),
    commit: edit.commit,
    durationMs: Date.now() - started,
  };
}
