/**
 * Fault injection on lxc containers, for drills and tests: power failure, crash of a process,
 * a hung machine, and network partitions between nodes.
 *
 * Partitions are an nftables `bridge` table per group, with one forward-hook chain dropping
 * frames between the host-side veths of the nodes cut off from each other. Traffic between the
 * host and a node never crosses the bridge's forward path (it is delivered to the bridge's own
 * address), so the host keeps reaching every node — as a drill needs.
 */
import { connect } from 'node:net';
import { OperationError, RemoteCommandError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { nullSink } from '../../core/events.ts';
import { shellQuote } from '../../transport/shell.ts';
import type { Transport } from '../../transport/transport.ts';
import type { FaultInjector, Inventory, InventoryHost } from '../platform.ts';

/** nft chains must not be called after keywords (`fwd`, `forward`); this name is neither. */
const CHAIN = 'isolation';

export interface LxcFaultOptions {
  /** runs lxc-*, nft on this machine (a LocalTransport) */
  local: Transport;
  events?: EventSink;
  /** how long `start` waits for sshd to answer; default 60 s */
  startTimeoutMs?: number;
}

/** The nft table of a group: `tpa_` + the group's name, as an nft identifier. */
export function faultTableName(group: string): string {
  return `tpa_${group.replace(/[^A-Za-z0-9_]/g, '_')}`;
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
  const name = shellQuote(processName);
  // pids are chosen first and killed after: killing a parent re-parents its children to init,
  // which would otherwise make them look top-most too
  return [
    `n=${name}; pids=`,
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

/** Wait until something at address:port speaks SSH (its banner), or throw after timeoutMs. */
export async function waitForSsh(address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await sshBanner(address, port, Math.min(3000, Math.max(500, deadline - Date.now())))) return;
    if (Date.now() >= deadline) {
      throw new OperationError(
        `sshd at ${address}:${port} did not answer within ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function sshBanner(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    let data = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.startsWith('SSH-')) done(true);
      else if (data.length >= 4) done(false);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

export class LxcFaults implements FaultInjector {
  private readonly local: Transport;
  private readonly events: EventSink;
  private readonly startTimeoutMs: number;
  readonly table: string;

  constructor(
    private readonly inventory: Inventory,
    opts: LxcFaultOptions,
  ) {
    this.local = opts.local;
    this.events = opts.events ?? nullSink;
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.table = faultTableName(inventory.group);
  }

  async poweroff(node: string): Promise<void> {
    const c = this.container(node);
    await this.run(node, 'poweroff', `lxc-stop -k -n ${shellQuote(c)}`);
    this.events({ kind: 'info', host: node, message: 'powered off (lxc-stop -k)' });
  }

  async start(node: string): Promise<void> {
    const h = this.host(node);
    const c = this.container(node);
    const state = await this.state(node);
    if (state === 'FROZEN') await this.run(node, 'start', `lxc-unfreeze -n ${shellQuote(c)}`);
    else if (state !== 'RUNNING') await this.run(node, 'start', `lxc-start -d -n ${shellQuote(c)}`);
    try {
      await waitForSsh(h.address, h.sshPort, this.startTimeoutMs);
    } catch (e) {
      throw new OperationError(`${node}: started, but ${(e as Error).message}`, {
        host: node,
        step: 'start',
      });
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
    const c = this.container(node);
    await this.requireRunning(node, 'kill');
    const r = await this.local.exec(
      `lxc-attach -n ${shellQuote(c)} -- sh -c ${shellQuote(killScript(processName))}`,
      {
        check: false,
        step: 'kill',
        timeoutMs: 30_000,
      },
    );
    if (r.exitCode === 3) {
      throw new OperationError(`${node}: no process named ${processName} is running`, {
        host: node,
        step: 'kill',
      });
    }
    if (r.exitCode !== 0) {
      throw new OperationError(`${node}: kill ${processName} failed: ${r.stderr.trim()}`, {
        host: node,
        step: 'kill',
      });
    }
    this.events({ kind: 'info', host: node, message: `killed ${processName} (SIGKILL)` });
  }

  async freeze(node: string): Promise<void> {
    await this.requireRunning(node, 'freeze');
    await this.run(node, 'freeze', `lxc-freeze -n ${shellQuote(this.container(node))}`);
    this.events({ kind: 'info', host: node, message: 'frozen' });
  }

  async thaw(node: string): Promise<void> {
    await this.run(node, 'thaw', `lxc-unfreeze -n ${shellQuote(this.container(node))}`);
    this.events({ kind: 'info', host: node, message: 'thawed' });
  }

  async isolate(node: string): Promise<void> {
    const others = this.inventory.hosts.filter((h) => h.name !== node).map((h) => h.name);
    this.host(node);
    await this.cut(node, others);
    this.events({ kind: 'info', host: node, message: `isolated from ${others.join(', ') || 'nobody'}` });
  }

  async partition(a: string, b: string): Promise<void> {
    this.host(b);
    if (a === b)
      throw new OperationError(`cannot partition ${a} from itself`, { host: a, step: 'partition' });
    await this.cut(a, [b]);
    this.events({ kind: 'info', host: a, message: `partitioned from ${b}` });
  }

  async heal(): Promise<void> {
    if (await this.tableExists()) {
      await this.run(undefined, 'heal', `nft delete table bridge ${this.table}`);
      this.events({ kind: 'info', message: `healed: removed nft table bridge ${this.table}` });
    } else {
      this.events({ kind: 'info', message: 'nothing to heal' });
    }
  }

  /** The host-side veth of a running node's container. */
  async veth(node: string): Promise<string> {
    const c = shellQuote(this.container(node));
    await this.requireRunning(node, 'network');
    // a configured veth.pair is the name; otherwise lxc made one up at start and shows it as Link
    const configured = await this.local.exec(`lxc-info -n ${c} -c lxc.net.0.veth.pair`, { check: false });
    const value = /=\s*(\S+)/.exec(configured.stdout)?.[1];
    if (configured.exitCode === 0 && value) return value;
    const info = await this.run(node, 'network', `lxc-info -n ${c}`);
    const link = /^Link:\s*(\S+)/m.exec(info)?.[1];
    if (!link)
      throw new OperationError(`${node}: no host-side network link found`, { host: node, step: 'network' });
    return link;
  }

  private async cut(node: string, others: string[]): Promise<void> {
    const mine = await this.veth(node);
    const theirs = await Promise.all(others.map((o) => this.veth(o)));
    await this.run(
      undefined,
      'partition',
      `nft add table bridge ${this.table} && nft add chain bridge ${this.table} ${CHAIN} ` +
        `'{ type filter hook forward priority 0; policy accept; }'`,
    );
    const existing = parseDropRules(
      await this.run(undefined, 'partition', `nft list chain bridge ${this.table} ${CHAIN}`),
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
    if (rules.length > 0)
      await this.local.exec('nft -f -', { stdin: rules.join('\n') + '\n', step: 'partition' });
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
    return this.host(node).platformId ?? node;
  }

  private async state(node: string): Promise<string> {
    const out = await this.run(node, 'state', `lxc-info -n ${shellQuote(this.container(node))} -s`);
    return /State:\s*(\S+)/.exec(out)?.[1] ?? 'UNKNOWN';
  }

  private async requireRunning(node: string, step: string): Promise<void> {
    const state = await this.state(node);
    if (state !== 'RUNNING') {
      throw new OperationError(`${node} is ${state.toLowerCase()}, not running`, {
        host: node,
        step,
        hint: state === 'STOPPED' ? `tpa fault DIR ${node} start` : `tpa fault DIR ${node} thaw`,
      });
    }
  }

  private async run(node: string | undefined, step: string, command: string): Promise<string> {
    try {
      return (await this.local.exec(command, { step, timeoutMs: 60_000 })).stdout;
    } catch (e) {
      if (!(e instanceof RemoteCommandError)) throw e;
      const why =
        e.details.stderr.trim().split('\n').slice(-3).join('; ') || `exit code ${e.details.exitCode}`;
      throw new OperationError(`${node ? `${node}: ` : ''}${step} failed: ${command}: ${why}`, {
        ...(node !== undefined ? { host: node } : {}),
        step,
      });
    }
  }
}
