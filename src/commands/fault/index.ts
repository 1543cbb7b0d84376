/**
 * `tpa fault`: inject a fault into one node of a provisioned group, for drills and tests —
 * power failure, a crashed process, a hung machine, a network partition — and heal it again.
 * Only platforms that own their machines can do this (lxc); bare hosts are someone else's.
 */
import { UsageError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { nullSink } from '../../core/events.ts';
import { loadClusterConfig } from '../../clusterdir/index.ts';
import { hostSpecs } from '../../model/hosts.ts';
import type { FaultAction, FaultInjector } from '../../platforms/platform.ts';
import { getPlatform } from '../../platforms/registry.ts';
import { inventoryHost, readInventory } from '../../clusterdir/inventory.ts';

export const FAULT_ACTIONS: readonly FaultAction[] = [
  'poweroff',
  'start',
  'kill',
  'freeze',
  'thaw',
  'isolate',
  'partition',
  'heal',
];

/** What each action does, for --help and messages. */
export const FAULT_DESCRIPTIONS: Record<FaultAction, string> = {
  poweroff: 'cut the power (no shutdown)',
  start: 'power on and wait for sshd (also thaws a frozen node)',
  kill: 'kill -9 a process by name, e.g. postgres (the postmaster) or sshd',
  freeze: 'hang the machine: every process stops, connections time out',
  thaw: 'resume a frozen machine',
  isolate: 'cut the node off from every other node (this host still reaches it)',
  partition: 'cut the node off from one other node, both directions',
  heal: 'undo every isolate and partition of the group (NODE is ignored)',
};

/** The fault injector of the group in DIR; a usage error when its platform has none. */
export async function faultsFor(dir: string, opts: { events?: EventSink } = {}): Promise<FaultInjector> {
  const { dir: abs, config } = await loadClusterConfig(dir);
  const platform = getPlatform(config.platform);
  if (!platform.faults) {
    throw new UsageError(
      `platform ${config.platform} cannot inject faults`,
      'fault injection needs machines tpa owns: use the lxc platform for drills',
    );
  }
  // not provisioned is bad input, said before anything is tried
  await readInventory(abs);
  return platform.faults({
    dir: abs,
    config,
    hosts: hostSpecs(config),
    authorizedKeys: [],
    events: opts.events ?? nullSink,
  });
}

export interface FaultRequest {
  dir: string;
  node: string;
  action: string;
  /** the process name (kill) or the other node (partition) */
  arg?: string;
  events?: EventSink;
}

export interface FaultOutcome {
  node: string;
  action: FaultAction;
  arg?: string;
  durationMs: number;
}

function isAction(s: string): s is FaultAction {
  return (FAULT_ACTIONS as readonly string[]).includes(s);
}

export async function injectFault(req: FaultRequest): Promise<FaultOutcome> {
  if (!isAction(req.action)) {
    throw new UsageError(`unknown fault action ${req.action}`, `actions: ${FAULT_ACTIONS.join(', ')}`);
  }
  const action = req.action;
  const needsArg = action === 'kill' || action === 'partition';
  if (needsArg && !req.arg) {
    throw new UsageError(
      `${action} needs ${action === 'kill' ? 'a process name' : 'the other node'}`,
      action === 'kill'
        ? `e.g. tpa fault DIR ${req.node} kill postgres`
        : `e.g. tpa fault DIR ${req.node} partition OTHER`,
    );
  }
  if (!needsArg && req.arg) throw new UsageError(`${action} takes no further argument (got ${req.arg})`);
  const inventory = await readInventory((await loadClusterConfig(req.dir)).dir);
  if (action !== 'heal') inventoryHost(inventory, req.node);
  if (action === 'partition') inventoryHost(inventory, req.arg!);
  const faults = await faultsFor(req.dir, req.events ? { events: req.events } : {});
  const started = Date.now();
  switch (action) {
    case 'kill':
      await faults.kill(req.node, req.arg!);
      break;
    case 'partition':
      await faults.partition(req.node, req.arg!);
      break;
    case 'heal':
      await faults.heal();
      break;
    default:
      await faults[action](req.node);
  }
  return {
    node: req.node,
    action,
    ...(req.arg !== undefined ? { arg: req.arg } : {}),
    durationMs: Date.now() - started,
  };
}
