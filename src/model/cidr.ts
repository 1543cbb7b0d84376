/**
 * Strict CIDR parsing on top of ipaddr.js, which on its own also accepts forms like "10/8"
 * or octal "010.0.0.1" that pg_hba.conf and firewalls would read differently.
 */
import ipaddr from 'ipaddr.js';

export interface Cidr {
  kind: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
  /** the address with the host bits cleared */
  network: string;
  /** ipaddr.js range name: private, loopback, unicast, uniqueLocal, ... */
  range: string;
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; problem: string; hint?: string };

export function parseCidr(text: string): CidrResult {
  const m = /^([^/\s]+)\/(0|[1-9][0-9]{0,2})$/.exec(text);
  if (!m) {
    if (isIpAddress(text)) {
      const bits = text.includes(':') ? 128 : 32;
      return {
        ok: false,
        problem: 'has no prefix length',
        hint: `for this one address write ${text}/${bits}`,
      };
    }
    return {
      ok: false,
      problem: 'is not a CIDR',
      hint: 'write ADDRESS/PREFIX, e.g. 203.0.113.0/24 or 2001:db8::/32',
    };
  }
  const [, addr, prefixText] = m as unknown as [string, string, string];
  const prefix = Number(prefixText);
  const kind = ipaddr.IPv4.isValidFourPartDecimal(addr) ? 'ipv4' : ipaddr.IPv6.isValid(addr) ? 'ipv6' : null;
  if (kind === null) return { ok: false, problem: `has an invalid address "${addr}"` };
  const max = kind === 'ipv4' ? 32 : 128;
  if (prefix > max) return { ok: false, problem: `has prefix /${prefix}, more than ${max} bits` };
  const parsed = ipaddr.parse(addr);
  const network =
    kind === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(text).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(text).toString();
  return { ok: true, cidr: { kind, address: parsed.toString(), prefix, network, range: parsed.range() } };
}

/** A plain IPv4 (dotted decimal) or IPv6 address. */
export function isIpAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
}
