/**
 * Which address each node gets. Pure. A node keeps the address it has (from its container's
 * config, else from the last inventory); new nodes take the lowest free host numbers from 11 up
 * (from 2 up in subnets too small for that), so adding a node never moves another.
 */
import { OperationError } from '../../core/errors.ts';
import { capacity, hostAddress, hostNumber, type Subnet } from './network.ts';

export function firstNodeNumber(s: Subnet): number {
  return capacity(s) >= 64 ? 11 : 2;
}

/** node -> host number in the subnet. Numbers stay below 255 so veth names stay short. */
export function assignHostNumbers(
  nodes: string[],
  subnet: Subnet,
  known: Map<string, string>,
): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Set<number>();
  const last = Math.min(capacity(subnet) + 1, 254);
  for (const n of nodes) {
    const addr = known.get(n);
    if (addr === undefined) continue;
    const num = hostNumber(subnet, addr);
    if (num >= 2 && num <= last && !taken.has(num)) {
      out.set(n, num);
      taken.add(num);
    }
  }
  let next = firstNodeNumber(subnet);
  for (const n of nodes) {
    if (out.has(n)) continue;
    while (taken.has(next)) next++;
    if (next > last) {
      throw new OperationError(`subnet ${subnet.network}/${subnet.prefix} has no address left for ${n}`, {
        host: n,
        step: 'addresses',
        hint: 'set a larger lxc.subnet in config.yml (and deprovision first: a group keeps its subnet)',
      });
    }
    out.set(n, next);
    taken.add(next);
  }
  return out;
}

export function addressOf(subnet: Subnet, num: number): string {
  return hostAddress(subnet, num);
}
