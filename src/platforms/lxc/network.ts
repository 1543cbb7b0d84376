/**
 * One bridge per group, on a /24 of its own (or lxc.subnet), with the host at the first address.
 * No NAT and no forwarding: containers talk to each other and to the host, nothing else.
 */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { OperationError } from '../../core/errors.ts';
import { APT_PROXY, RESERVED_RANGE, TPA_PREFIX } from './names.ts';
import { sh as cmd } from '../../core/shell.ts';
import { type HostShell } from './host.ts';

export interface Subnet {
  network: string;
  prefix: number;
}

export interface GroupNetwork {
  bridge: string;
  subnet: Subnet;
  /** the host's address on the bridge, the containers' gateway */
  gateway: string;
}

function toInt(address: string): number {
  return ipaddr.IPv4.parse(address)
    .toByteArray()
    .reduce((n, b) => n * 256 + b, 0);
}

function fromInt(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function range(s: Subnet): [number, number] {
  const start = toInt(s.network);
  return [start, start + 2 ** (32 - s.prefix) - 1];
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

export function subnetText(s: Subnet): string {
  return `${s.network}/${s.prefix}`;
}

export function parseSubnet(text: string): Subnet {
  const [address, len] = ipaddr.IPv4.parseCIDR(text);
  const prefix = Number(len);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: fromInt((toInt(address.toString()) & mask) >>> 0), prefix };
}

/** The n-th address of a subnet (1 = the host, the gateway). */
export function hostAddress(s: Subnet, n: number): string {
  const [start, end] = range(s);
  if (n < 1 || start + n >= end) throw new RangeError(`address ${n} does not fit in ${subnetText(s)}`);
  return fromInt(start + n);
}

/** The position of an address in its subnet (inverse of hostAddress). */
export function hostNumber(s: Subnet, address: string): number {
  return toInt(address) - toInt(s.network);
}

/** How many node addresses a subnet holds after the gateway (and the broadcast address). */
export function capacity(s: Subnet): number {
  return 2 ** (32 - s.prefix) - 3;
}

/** The block of the reserved range the apt proxy lives in; no group gets it. */
export const APT_BLOCK: Subnet = { network: APT_PROXY.address.replace(/\.\d+$/, '.0'), prefix: 24 };

/**
 * A free /24 in the reserved range. The search starts at a place derived from the group's
 * prefix, so groups tend to keep the same subnet when re-created, then takes the first free one.
 */
export function pickSubnet(used: Subnet[], seed: string): Subnet | undefined {
  const base = toInt(RESERVED_RANGE.network);
  const blocks = 2 ** (24 - RESERVED_RANGE.prefix);
  const start = createHash('sha256').update(seed).digest().readUInt16BE(0) % blocks;
  for (let i = 0; i < blocks; i++) {
    const block = (start + i) % blocks;
    const candidate: Subnet = { network: fromInt(base + block * 256), prefix: 24 };
    if (block === 0 || block === blocks - 1) continue;
    if (overlaps(candidate, APT_BLOCK)) continue;
    if (used.some((u) => overlaps(u, candidate))) continue;
    return candidate;
  }
  return undefined;
}

/** IPv4 networks in use on the host: routes of every table and addresses of every interface. */
export async function usedNetworks(sh: HostShell): Promise<Subnet[]> {
  const used: Subnet[] = [];
  const routes = await sh.run('ip -4 -o route show table all', { step: 'network' });
  const types = new Set([
    'local',
    'broadcast',
    'unicast',
    'unreachable',
    'blackhole',
    'prohibit',
    'throw',
    'anycast',
    'multicast',
  ]);
  for (const line of routes.split('\n')) {
    const words = line.trim().split(/\s+/);
    const dest = types.has(words[0] ?? '') ? words[1] : words[0];
    if (!dest || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dest)) continue;
    used.push(parseSubnet(dest.includes('/') ? dest : `${dest}/32`));
  }
  const addrs = await sh.run('ip -4 -o addr show', { step: 'network' });
  for (const m of addrs.matchAll(/inet (\d+\.\d+\.\d+\.\d+\/\d+)/g)) used.push(parseSubnet(m[1]!));
  return used;
}

/** The subnet of an existing bridge (from the host's address on it), or undefined. */
export async function bridgeSubnet(sh: HostShell, bridge: string): Promise<GroupNetwork | undefined> {
  const r = await sh.test(cmd`ip -4 -o addr show dev ${bridge}`);
  if (!r.ok) return undefined;
  const m = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(r.stdout);
  if (!m) return undefined;
  return { bridge, gateway: m[1]!, subnet: parseSubnet(`${m[1]}/${m[2]}`) };
}

export async function linkExists(sh: HostShell, name: string): Promise<boolean> {
  return (await sh.test(cmd`ip link show dev ${name}`)).ok;
}

/** A locally administered MAC derived from the name: a bridge's MAC would otherwise follow its ports. */
export function stableMac(name: string): string {
  const h = createHash('sha256').update(name).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * Creates the bridge and its address when missing; returns what it changed. Forward delay 0 so a
 * new container's port forwards at once.
 */
export async function ensureBridge(sh: HostShell, net: GroupNetwork): Promise<string[]> {
  const changes: string[] = [];
  const where = { step: 'bridge' };
  if (!(await linkExists(sh, net.bridge))) {
    await sh.run(
      cmd`ip link add name ${net.bridge} address ${stableMac(net.bridge)} type bridge forward_delay 0`,
      where,
    );
    changes.push(`created bridge ${net.bridge}`);
  }
  const current = await bridgeSubnet(sh, net.bridge);
  const want = `${net.gateway}/${net.subnet.prefix}`;
  if (!current) {
    await sh.run(cmd`ip addr add ${want} dev ${net.bridge}`, where);
    changes.push(`address ${want} on ${net.bridge}`);
  } else if (current.gateway !== net.gateway || current.subnet.prefix !== net.subnet.prefix) {
    throw new OperationError(
      `bridge ${net.bridge} has address ${current.gateway}/${current.subnet.prefix}, not ${want}`,
      { step: 'bridge', hint: 'the subnet of a provisioned group cannot change: deprovision it first' },
    );
  }
  const state = await sh.run(cmd`ip -o link show dev ${net.bridge}`, where);
  if (!/[<,]UP[,>]/.test(state)) {
    await sh.run(cmd`ip link set dev ${net.bridge} up`, where);
    changes.push(`${net.bridge} up`);
  }
  return changes;
}

/** Every network interface whose name starts with the prefix (bridge, leftover veths). */
export async function linksWithPrefix(sh: HostShell, prefix: string): Promise<string[]> {
  const out = await sh.run('ip -o link show', { step: 'network' });
  const names: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m && m[1]!.startsWith(prefix)) names.push(m[1]!);
  }
  return names;
}

/** Bridges of every tpa group on this host (not the apt proxy's). */
export async function tpaBridges(sh: HostShell): Promise<string[]> {
  const out = await sh.run('ip -o link show type bridge', { step: 'network' });
  return [...out.matchAll(/^\d+:\s+([^:@\s]+)/gm)]
    .map((m) => m[1]!)
    .filter((n) => n.startsWith(TPA_PREFIX) && n !== APT_PROXY.bridge);
}
