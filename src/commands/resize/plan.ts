/**
 * What `tpa resize` will do, decided before anything changes (pure): the machine (a node or a
 * service), its size now and after, and the edit of config.yml. Refused (UsageError, exit 2):
 * nothing to change asked, an unknown machine, a smaller volume (volumes only grow), a postgres
 * node that is not running. An instance type the platform lacks is refused by config.yml's own
 * rules when the edit is validated, before it is written.
 */
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_INSTANCE_TYPE } from '../../model/instance-types.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';
import type { StatusReport } from '../status/index.ts';

export interface ResizeRequest {
  node: string;
  instanceType?: string;
  volumeGb?: number;
  /** a primary whose server must restart restarts in place instead of switching over first */
  noSwitchover?: boolean;
}

export interface MachineSize {
  instanceType: string;
  volumeGb: number;
}

export interface ResizePlan {
  node: string;
  /** the node's cluster; absent for a service (a backup server) */
  cluster?: string;
  /** the role it runs now (a service: its service role) */
  role: string;
  from: MachineSize;
  to: MachineSize;
  /** config.yml already says `to` (a second run, or one that stopped half-way) */
  recorded: boolean;
}

export function planResize(config: ClusterGroupConfig, status: StatusReport, req: ResizeRequest): ResizePlan {
  if (req.instanceType === undefined && req.volumeGb === undefined)
    throw new UsageError('say what to change: --instance-type, --volume-gb or both');
  const cluster = config.clusters.find((c) => c.nodes.some((n) => n.name === req.node));
  const machine =
    cluster?.nodes.find((n) => n.name === req.node) ?? config.services.find((s) => s.name === req.node);
  if (!machine)
    throw new UsageError(
      `no node or service ${req.node} in this group`,
      `its machines: ${[...config.clusters.flatMap((c) => c.nodes.map((n) => n.name)), ...config.services.map((s) => s.name)].join(', ')}`,
    );
  const from: MachineSize = {
    instanceType:
      machine.instance_type ?? config.defaults.instance_type ?? DEFAULT_INSTANCE_TYPE[config.platform],
    volumeGb: machine.volume_gb ?? config.defaults.volume_gb,
  };
  const to: MachineSize = {
    instanceType: req.instanceType ?? from.instanceType,
    volumeGb: req.volumeGb ?? from.volumeGb,
  };
  if (to.volumeGb < from.volumeGb)
    throw new UsageError(
      `${req.node}'s volume is ${from.volumeGb} GB: a volume only grows (asked ${to.volumeGb} GB)`,
      'to make it smaller, add a replica of the smaller size (tpa add-replica --instance-type) and remove this one',
    );
  let role = 'role' in machine ? machine.role : 'service';
  if (cluster) {
    const row = status.nodes.find((r) => r.node === req.node);
    if (!row || row.state !== 'running')
      throw new UsageError(
        `${req.node} is ${row?.state ?? 'unknown'}${row?.detail ? ` (${row.detail})` : ''}: resize restarts it safely only while it runs`,
        'start it first (tpa status shows why it is down)',
      );
    role = row.role;
  }
  return {
    node: req.node,
    ...(cluster ? { cluster: cluster.name } : {}),
    role,
    from,
    to,
    recorded: from.instanceType === to.instanceType && from.volumeGb === to.volumeGb,
  };
}
