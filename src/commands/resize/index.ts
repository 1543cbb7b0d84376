/**
 * `tpa resize DIR NODE --instance-type T [--volume-gb G]`: a machine gets another size and
 * PostgreSQL is tuned for it. Checked first (plan.ts), and the edit of config.yml validated
 * before it is written (an instance type the platform lacks is refused there); then config.yml
 * records the size (one commit), provision resizes the machine (lxc: the container's memory
 * and CPU limits, live) and deploy re-tunes the settings that follow the size, rolling the
 * restarts they need replicas first. A primary whose server must restart for them hands over
 * to a standby first (a switchover: clients stall, none fails) unless --no-switchover, and is
 * restarted as a standby. Run again, it converges: config.yml already says the size, provision
 * and deploy finish what is left.
 */
import type { EventSink } from '../../core/events.ts';
import { OperationError } from '../../core/errors.ts';
import { loadClusterConfig } from '../../clusterdir/dir.ts';
import { editConfig } from '../../clusterdir/edit-config.ts';
import { setNodeField, setServiceField } from '../../clusterdir/config-edits.ts';
import { pgPathsFor } from '../../components/postgres/paths.ts';
import { clusterStatus } from '../status/index.ts';
import { provision } from '../provision/index.ts';
import { plan as computePlan } from '../plan/index.ts';
import { deploy } from '../deploy/index.ts';
import { switchover } from '../switchover/index.ts';
import { planResize, type MachineSize, type ResizeRequest } from './plan.ts';

export interface ResizeReport {
  node: string;
  cluster?: string;
  from: MachineSize;
  to: MachineSize;
  /** the commit that records the size (null: config.yml said so already) */
  commit: string | null;
  /** what provision changed on the machine */
  machine: string[];
  /** what deploy changed on the node (the settings re-tuned) */
  settings: string[];
  /** the node's server restarted for them */
  restarted: boolean;
  switchover?: { from: string; to: string; stallMs: number };
  durationMs: number;
}

const describe = (s: MachineSize) => `${s.instanceType}, ${s.volumeGb} GB`;

export async function resize(req: ResizeRequest & { dir: string; events: EventSink }): Promise<ResizeReport> {
  const started = Date.now();
  const { config } = await loadClusterConfig(req.dir);
  const plan = planResize(config, await clusterStatus(req.dir), req);
  const p = pgPathsFor(config);
  const edit = await editConfig(
    req.dir,
    (text) => {
      const set = (t: string, key: string, value: unknown) =>
        plan.cluster !== undefined
          ? setNodeField(t, plan.cluster, plan.node, key, value)
          : setServiceField(t, plan.node, key, value);
      let out = text;
      if (plan.to.instanceType !== plan.from.instanceType)
        out = set(out, 'instance_type', plan.to.instanceType);
      if (plan.to.volumeGb !== plan.from.volumeGb) out = set(out, 'volume_gb', plan.to.volumeGb);
      return out;
    },
    `resize: ${plan.node} ${describe(plan.from)} -> ${describe(plan.to)}`,
  );
  let step = 'provision';
  try {
    const prov = await provision({ dir: req.dir, events: req.events });
    const machine = prov.changes.filter((c) => c.startsWith(`${plan.node}:`));
    let moved: ResizeReport['switchover'];
    step = 'plan';
    const before = await computePlan({ dir: req.dir, events: () => undefined });
    const onNode = before.plan.hosts.find((h) => h.host === plan.node)?.changes ?? [];
    const restart = `restart:${p.service}` as const;
    const restarts = onNode.some((c) => c.notify?.includes(restart));
    const isPrimary = plan.cluster !== undefined && plan.role === 'primary';
    if (isPrimary && restarts && !req.noSwitchover) {
      step = 'switchover';
      req.events({
        kind: 'info',
        message: `${plan.node} must restart for its new size: switching over first`,
      });
      const sw = await switchover({ dir: req.dir, events: req.events, cluster: plan.cluster! });
      moved = { from: sw.from, to: sw.to, stallMs: sw.stallMs };
    }
    step = 'deploy';
    const d = await deploy({ dir: req.dir, events: req.events });
    const settings = d.applied.filter((c) => c.host === plan.node).map((c) => c.summary);
    return {
      node: plan.node,
      ...(plan.cluster !== undefined ? { cluster: plan.cluster } : {}),
      from: plan.from,
      to: plan.to,
      commit: edit.commit,
      machine,
      settings,
      restarted: d.handlers.some((h) => h.host === plan.node && h.handler === restart),
      ...(moved ? { switchover: moved } : {}),
      durationMs: Date.now() - started,
    };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new OperationError(
      `${plan.node}'s new size (${describe(plan.to)}) is in config.yml${edit.commit ? ` (commit ${edit.commit.slice(0, 7)})` : ''}, but the ${step} after it failed: ${why}`,
      {
        step: `resize: ${step}`,
        hint: `fix the cause and run tpa resize DIR ${plan.node} again (it goes on from where this stopped); tpa status shows each node`,
      },
    );
  }
}
