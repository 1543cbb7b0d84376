/**
 * Fault injection on lxc containers, for drills and tests: power failure, crash of a process,
 * a hung machine, and network partitions between nodes.
 *
 * Partitions are an nftables `bridge` table per group, with one forward-hook chain dropping
 * frames between the host-side veths of the nodes cut off from each other. Traffic between the
 * host and a node never crosses the bridge's forward path (it is delivered to the bridge's own
 * address), so the host keeps reaching every node — as a drill needs.
 */
import { OperationError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { nullSink } from '../../core/events.ts';
import type { FaultInjector, Inventory, InventoryHost, PlatformContext } from '../platform.ts';
import { containerState, hostVeth } from './containers.ts';
import { sh } from '../../core/shell.ts';
import { HostShell } from './host.ts';
import { isGroupPrefix } from './names.ts';
import { previousInventory } from './prefix.ts';
import { waitForSshBanner } from './ssh-wait.ts';

/** nft chains must not be called after keywords (`fwd`, `forward`); this name is neither. */
const CHAIN = 'isolation';

export interface LxcFaultOptions {
  /** runs lxc-*, nft on this machine */
  shell: HostShell;
  events?: EventSink;
  /** how long `start` waits for sshd to answer; default 60 s */
  startTimeoutMs?: number;
}

/**
 * The nft table of a group's faults: its prefix + `-faults` (a valid nft name; starting with the
 * prefix, it is removed with everything else of the group by deprovision).
 */
export function faultTableName(inventory: Inventory): string {
  const prefix = inventory.network?.prefix;
  if (!prefix || !isGroupPrefix(prefix)) {
    throw new OperationError(`inventory.json of group ${inventory.group} records no lxc prefix`, {
      step: 'faults',
      hint: 'run tpa provision again to rewrite the inventory',
    });
  }
  return `${prefix}-faults`;
}

/** The rules of the chain as pairs of interface names, from `nft list chain` text. */
export function parseDropRules(listing: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const m of listing.matchAll(/iifname "([^"]+)" oifname "([^"]+)" drop/g)) {
    pairs.push([m[1]!, m[2]!]);
  }
  return pairs;
}

/**
 * The kill script run inside a container: SIGKILL the top-most processes called NAME (those
 * whose parent has another name). For postgres that is the postmaster, for sshd the listener,
 * for a command run by a shell the command itself. Only /proc and sh builtins, so it works on
 * the most minimal image. Exit 3 when nothing matched.
 */
export function killScript(processName: string): string {
  // pids are chosen first and killed after: killing a parent re-parents its children to init,
  // which would otherwise make them look top-most too
  return [
    sh`n=${processName}; pids=`,
    'for d in /proc/[0-9]*; do',
    '  read -r c 2>/dev/null < "$d/comm" || continue',
    '  [ "$c" = "$n" ] || continue',
    '  pp=$(sed -n "s/^PPid:[[:space:]]*//p" "$d/status" 2>/dev/null)',
    '  pc=; [ -n "$pp" ] && read -r pc 2>/dev/null < "/proc/$pp/comm"',
    '  [ "$pc" = "$n" ] || pids="$pids ${d#/proc/}"',
    'done',
    '[ -n "$pids" ] || exit 3',
    // one that ended by itself in between is fine
    'kill -9 $pids 2>/dev/null || :',
  ].join('\n');
}

export class LxcFaults implements FaultInjector {
  private readonly sh: HostShell;
  private readonly events: EventSink;
  private readonly startTimeoutMs: number;
  readonly table: string;

  constructor(
    private readonly inventory: Inventory,
    opts: LxcFaultOptions,
  ) {
    this.sh = opts.shell;
    this.events = opts.events ?? nullSink;
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.table = faultTableName(inventory);
  }

  async poweroff(node: string): Promise<void> {
    await this.run(node, 'poweroff', sh`lxc-stop -k -n ${this.container(node)}`);
    this.events({ kind: 'info', host: node, message: 'powered off (lxc-stop -k)' });
  }

  async start(node: string): Promise<void> {
    const h = this.host(node);
    const c = this.container(node);
    const state = await this.state(node);
    if (state === 'FROZEN') await this.run(node, 'start', sh`lxc-unfreeze -n ${c}`);
    else if (state !== 'RUNNING') await this.run(node, 'start', sh`lxc-start -d -n ${c}`);
    if (!(await waitForSshBanner(h.address, h.sshPort, this.startTimeoutMs))) {
      throw new OperationError(
        `${node}: started, but sshd at ${h.address}:${h.sshPort} did not answer within ${this.startTimeoutMs / 1000} s`,
        {
          host: node,
          step: 'start',
          hint: `look inside: lxc-attach -n ${this.container(node)} -- systemctl status ssh`,
        },
      );
    }
    this.events({ kind: 'info', host: node, message: 'started; sshd answers' });
  }

  async kill(node: string, processName: string): Promise<void> {
    if (!/^[A-Za-z0-9_.:@+-]{1,15}$/.test(processName)) {
      throw new OperationError(`not a process name: ${JSON.stringify(processName)}`, {
        host: node,
        step: 'kill',
        hint: 'give the name as ps shows it (at most 15 characters), e.g. postgres or sshd',
      });
    }
    await this.requireRunning(node, 'kill');
    const r = await this.sh.local.exec(
      sh`lxc-attach -n ${this.container(node)} -- sh -c ${killScript(processName)}`,
      { step: 'kill', timeoutMs: 30_000, check: false },
    );
    if (r.exitCode === 3) {
      throw new OperationError(`${node}: no process named ${processName} is running`, {
        host: node,
        step: 'kill',
      });
    }
    if (r.exitCode !== 0) {
      throw new OperationError(
        `${node}: kill ${processName} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`,
        {
          host: node,
          step: 'kill',
        },
      );
    }
    this.events({ kind: 'info', host: node, message: `killed ${processName} (SIGKILL)` });
  }

  /**
   * A hung machine: its processes stop (cgroup freezer) and so does its network towards the
   * other nodes. The freezer alone leaves the host kernel answering for the container (TCP
   * handshakes and ACKs go on), which no hung machine does: a client query sent to it would
   * then wait forever instead of timing out.
   */
  async freeze(node: string): Promise<void> {
    await this.requireRunning(node, 'freeze');
    await this.cut(node, this.others(node));
    await this.run(node, 'freeze', sh`lxc-freeze -n ${this.container(node)}`);
    this.events({ kind: 'info', host: node, message: 'frozen (silent on the network)' });
  }

  /** The machine resumes: network first, then its processes, within milliseconds. */
  async thaw(node: string): Promise<void> {
    await this.uncut(node);
    await this.run(node, 'thaw', sh`lxc-unfreeze -n ${this.container(node)}`);
    this.events({ kind: 'info', host: node, message: 'thawed' });
  }

  private others(node: string): string[] {
    return this.inventory.hosts.filter((h) => h.name !== node).map((h) => h.name);
  }

  async isolate(node: string): Promise<void> {
    this.host(node);
    const others = this.others(node);
    await this.cut(node, others);
    this.events({ kind: 'info', host: node, message: `isolated from ${others.join(', ') || 'nobody'}` });
  }

  async partition(a: string, b: string): Promise<void> {
    this.host(a);
    this.host(b);
    if (a === b)
      throw new OperationError(`cannot partition ${a} from itself`, { host: a, step: 'partition' });
    await this.cut(a, [b]);
    this.events({ kind: 'info', host: a, message: `partitioned from ${b}` });
  }

  async heal(): Promise<void> {
    if (await this.tableExists()) {
      await this.run(undefined, 'heal', sh`nft delete table bridge ${this.table}`);
      this.events({ kind: 'info', message: `healed: removed nft table bridge ${this.table}` });
    } else {
      this.events({ kind: 'info', message: 'nothing to heal' });
    }
  }

  /** The host-side veth of a node: fixed in its lxc config by provision, else what lxc shows. */
  async veth(node: string): Promise<string> {
    const c = this.container(node);
    const configured = await hostVeth(c);
    if (configured) return configured;
    await this.requireRunning(node, 'network');
    const link = /^Link:\s*(\S+)/m.exec(await this.run(node, 'network', sh`lxc-info -n ${c}`))?.[1];
    if (!link)
      throw new OperationError(`${node}: no host-side network link found`, { host: node, step: 'network' });
    return link;
  }

  private async cut(node: string, others: string[]): Promise<void> {
    const mine = await this.veth(node);
    const theirs = await Promise.all(others.map((o) => this.veth(o)));
    const t = this.table;
    await this.run(
      undefined,
      'partition',
      sh`nft add table bridge ${t} && nft add chain bridge ${t} ${CHAIN} ` +
        `'{ type filter hook forward priority 0; policy accept; }'`,
    );
    const existing = parseDropRules(
      await this.run(undefined, 'partition', sh`nft list chain bridge ${t} ${CHAIN}`),
    );
    const has = (i: string, o: string) => existing.some(([x, y]) => x === i && y === o);
    const rules: string[] = [];
    for (const other of theirs) {
      for (const [i, o] of [
        [mine, other],
        [other, mine],
      ] as const) {
        if (!has(i, o))
          rules.push(`add rule bridge ${this.table} ${CHAIN} iifname "${i}" oifname "${o}" drop`);
      }
    }
    if (rules.length > 0) {
      await this.sh.run('nft -f -', { step: 'partition' }, { stdin: rules.join('\n') + '\n' });
    }
  }

  /** drops the rules that cut `node` off (its freeze, an isolation, its partitions) */
  private async uncut(node: string): Promise<void> {
    if (!(await this.tableExists())) return;
    const mine = await this.veth(node);
    const listing = await this.run(undefined, 'thaw', sh`nft -a list chain bridge ${this.table} ${CHAIN}`);
    const handles = [...listing.matchAll(/iifname "([^"]+)" oifname "([^"]+)" drop # handle (\d+)/g)]
      .filter((m) => m[1] === mine || m[2] === mine)
      .map((m) => m[3]!);
    if (handles.length === 0) return;
    const rules = handles.map((h) => `delete rule bridge ${this.table} ${CHAIN} handle ${h}`);
    await this.sh.run('nft -f -', { step: 'thaw' }, { stdin: rules.join('\n') + '\n' });
  }

  private async tableExists(): Promise<boolean> {
    const out = await this.run(undefined, 'heal', 'nft list tables bridge');
    return out.split('\n').some((l) => l.trim() === `table bridge ${this.table}`);
  }

  private host(node: string): InventoryHost {
    const h = this.inventory.hosts.find((x) => x.name === node);
    if (!h) {
      throw new OperationError(`no node called ${node} in group ${this.inventory.group}`, {
        hint: `nodes: ${this.inventory.hosts.map((x) => x.name).join(', ')}`,
      });
    }
    return h;
  }

  private container(node: string): string {
    const h = this.host(node);
    if (!h.platformId) {
      throw new OperationError(`${node}: inventory.json records no container`, {
        host: node,
        hint: 'run tpa provision again to rewrite the inventory',
      });
    }
    return h.platformId;
  }

  private async state(node: string): Promise<string> {
    return (await containerState(this.sh, this.container(node))) ?? 'MISSING';
  }

  private async requireRunning(node: string, step: string): Promise<void> {
    const state = await this.state(node);
    if (state !== 'RUNNING') {
      throw new OperationError(`${node} is ${state.toLowerCase()}, not running`, {
        host: node,
        step,
        ...(state === 'STOPPED' || state === 'FROZEN'
          ? { hint: `tpa fault DIR ${node} ${state === 'STOPPED' ? 'start' : 'thaw'}` }
          : {}),
      });
    }
  }

  private run(node: string | undefined, step: string, command: string): Promise<string> {
    return this.sh.run(command, { step, ...(node !== undefined ? { node } : {}) }, { timeoutMs: 60_000 });
  }
}

/**
 * The platform's fault injector for a group: reads the group's inventory on first use (the
 * Platform interface hands over a context, and the containers are known from the inventory).
 */
export function lxcFaults(ctx: Pick<PlatformContext, 'dir' | 'events'>): FaultInjector {
  let ready: Promise<LxcFaults> | undefined;
  const get = (): Promise<LxcFaults> =>
    (ready ??= previousInventory(ctx.dir).then((inv) => {
      if (!inv || inv.platform !== 'lxc') {
        throw new OperationError(`${ctx.dir} has no lxc inventory: the group is not provisioned`, {
          step: 'faults',
          hint: `run: tpa provision ${ctx.dir}`,
        });
      }
      return new LxcFaults(inv, { shell: new HostShell(undefined, ctx.events), events: ctx.events });
    }));
  return {
    poweroff: async (n) => (await get()).poweroff(n),
    start: async (n) => (await get()).start(n),
    kill: async (n, p) => (await get()).kill(n, p),
    freeze: async (n) => (await get()).freeze(n),
    thaw: async (n) => (await get()).thaw(n),
    isolate: async (n) => (await get()).isolate(n),
    partition: async (a, b) => (await get()).partition(a, b),
    heal: async () => (await get()).heal(),
  };
}
