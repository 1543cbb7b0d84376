/**
 * Names of everything the lxc platform creates on the host. Every container, bridge, veth and
 * nft table of a group starts with the group's prefix (`tpa-` + 6 hex digits), so cleanup can
 * go by name and never touches anything else. Interface names must fit in 15 characters.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

/** Everything tpa creates on an lxc host starts with this. */
export const TPA_PREFIX = 'tpa-';

/** Where container subnets are taken from when config.yml does not set lxc.subnet. */
export const RESERVED_RANGE = { network: '10.123.0.0', prefix: 16 } as const;

/**
 * The apt proxy (apt-cacher-ng) shared by every group. It listens on an address of its own, on a
 * bridge without ports: containers reach it through their gateway (the host delivers packets
 * for its own addresses locally; nothing is forwarded), so it never has to be restarted when a
 * group comes or goes, and all groups share one package cache.
 */
export const APT_PROXY = { bridge: 'tpa-apt0', address: '10.123.0.1', port: 3142 } as const;

/** Host-side state of the platform (group records, the apt proxy's config and pid file). */
export const STATE_DIR = '/var/lib/tpa/lxc';
export const APT_CACHE_DIR = '/var/cache/tpa/apt-cacher-ng';

/** Where lxc keeps containers (lxc.lxcpath); the default of Debian's lxc package. */
export const LXC_PATH = '/var/lib/lxc';

/** The name tpa's /etc/hosts gives to the host's address on a group's bridge. */
export const HOST_ALIAS = 'tpa-host';

const PREFIX_PATTERN = /^tpa-[0-9a-f]{6}$/;

/**
 * A group's prefix: stable for one cluster directory (its group name and absolute path), so two
 * directories that happen to use the same group name never share containers. Provision records
 * it in inventory.json, and later commands read it from there.
 */
export function groupPrefix(group: string, dir: string): string {
  const hash = createHash('sha256')
    .update(`${group}\0${resolve(dir)}`)
    .digest('hex');
  return `${TPA_PREFIX}${hash.slice(0, 6)}`;
}

export function isGroupPrefix(s: string): boolean {
  return PREFIX_PATTERN.test(s);
}

/** The group's bridge is called by the prefix itself (10 characters). */
export function bridgeName(prefix: string): string {
  return prefix;
}

export function containerName(prefix: string, node: string): string {
  return `${prefix}-${node}`;
}

/** The node name of one of the group's containers, or undefined when it is not the group's. */
export function nodeOfContainer(prefix: string, container: string): string | undefined {
  return container.startsWith(`${prefix}-`) ? container.slice(prefix.length + 1) : undefined;
}

/**
 * The host side of a node's veth: prefix + the node's host number in the subnet (≤ 254), at most
 * 14 characters. Fixed in the container's config (lxc.net.0.veth.pair), so fault injection
 * finds it without asking lxc.
 */
export function vethName(prefix: string, hostNumber: number): string {
  if (!Number.isInteger(hostNumber) || hostNumber < 1 || hostNumber > 999) {
    throw new RangeError(`host number out of range: ${hostNumber}`);
  }
  return `${prefix}-${hostNumber}`;
}

/** Is this host object (interface, nft table, container) one of the group's? */
export function ownedByGroup(prefix: string, name: string): boolean {
  return name.startsWith(prefix);
}

/** The base container built from a recipe; a new recipe gets a new base. */
export function baseContainerName(recipeHash: string): string {
  return `${TPA_PREFIX}base-${recipeHash.slice(0, 8)}`;
}
