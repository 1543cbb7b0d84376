/**
 * `tpa add-cluster DIR NAME [options]`: a new cluster in the group, from configure's options
 * (plan.ts), written to config.yml (a commit: "add-cluster: NAME ..."), then provisioned and
 * deployed; the group's other clusters only see what a new neighbour changes (a shared backup
 * server gets a server section for it).
 */
import type { EventSink } from '../../core/events.ts';
import { loadClusterConfig } from '../../clusterdir/dir.ts';
import { editConfig } from '../../clusterdir/edit-config.ts';
import { addCluster, addService } from '../../clusterdir/config-edits.ts';
import { convergeAfterEdit, type Converged } from '../converge.ts';
import { planAddCluster, type AddClusterInput } from './plan.ts';

export interface AddClusterRequest extends AddClusterInput {
  dir: string;
  events: EventSink;
}

export interface AddClusterReport extends Converged {
  cluster: string;
  nodes: string[];
  backupServer?: string;
  commit: string | null;
  durationMs: number;
}

export async function addClusterOperation(req: AddClusterRequest): Promise<AddClusterReport> {
  const started = Date.now();
  const { config } = await loadClusterConfig(req.dir);
  const plan = planAddCluster(config, req);
  const nodes = plan.cluster.nodes.map((n) => n.name);
  const backupServer = plan.cluster.backup_server as string | undefined;
  const edit = await editConfig(
    req.dir,
    (text) => {
      const withService = plan.service ? addService(text, plan.service) : text;
      return addCluster(withService, plan.cluster);
    },
    `add-cluster: ${req.name} (${nodes.join(', ')}${backupServer ? `; backups on ${backupServer}` : ''})`,
  );
  const done = await convergeAfterEdit(req.dir, req.events, {
    operation: 'add-cluster',
    change: `cluster ${req.name}`,
    commit: edit.commit,
    undo: `tpa remove-cluster DIR ${req.name} --yes`,
  });
  return {
    cluster: req.name,
    nodes,
    ...(backupServer ? { backupServer } : {}),
    commit: edit.commit,
    ...done,
    durationMs: Date.now() - started,
  };
}
