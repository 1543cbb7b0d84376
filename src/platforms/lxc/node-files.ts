/**
 * The files that make a clone of the base into a node: its lxc configuration and what goes into
 * its rootfs before the first start. Pure: text from data.
 */
import { aptProxyUrl } from './apt-proxy.ts';
import type { HostMirrors } from './mirror.ts';
import { HOST_ALIAS } from './names.ts';

/** The address comes from the lxc config (lxc.net.0.ipv4.*); the template's dhcp would only wait. */
export const NETWORK_INTERFACES = `auto lo
iface lo inet loopback

auto eth0
iface eth0 inet manual
`;

/** There is no DNS server the containers could reach: every name they need is in /etc/hosts. */
export const RESOLV_CONF = `# tpa: no DNS on this network; node names are in /etc/hosts
options timeout:1 attempts:1
`;

/** sshd offers only the host keys tpa generated and recorded. */
export const SSHD_HOSTKEYS = `# tpa: the host keys recorded in the cluster directory's known_hosts
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
`;

export const SSHD_HOSTKEYS_PATH = '/etc/ssh/sshd_config.d/tpa-hostkeys.conf';

export function aptSources(m: HostMirrors, release: string): string {
  const lines = [`deb ${m.main} ${release} main`, `deb ${m.main} ${release}-updates main`];
  if (m.security) lines.push(`deb ${m.security} ${release}-security main`);
  return lines.join('\n') + '\n';
}

export function aptProxyConf(): string {
  return `// tpa: packages come through apt-cacher-ng on the lxc host\nAcquire::http::Proxy "${aptProxyUrl()}";\n`;
}

export interface HostsEntry {
  name: string;
  address: string;
}

/** /etc/hosts of every node: itself, every node of the group, and the host. */
export function hostsFile(self: string, nodes: HostsEntry[], hostAddress: string): string {
  const lines = [
    '# written by tpa (lxc platform)',
    '127.0.0.1\tlocalhost',
    `127.0.1.1\t${self}`,
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    '',
    `${hostAddress}\t${HOST_ALIAS}`,
    ...[...nodes].sort((a, b) => a.name.localeCompare(b.name)).map((n) => `${n.address}\t${n.name}`),
  ];
  return lines.join('\n') + '\n';
}

export interface NodeLxcSettings {
  container: string;
  hostname: string;
  bridge: string;
  veth: string;
  address: string;
  prefixLength: number;
  gateway: string;
  mac: string;
  memoryMb: number;
  cpus: number;
  /** cgroup v2 only (unified) or v1 controllers (legacy/hybrid) */
  cgroup: 'v1' | 'v2';
}

/** Keys of the container config tpa sets; the rest of the clone's config is kept. */
const OWNED_KEYS =
  /^\s*(lxc\.net\.|lxc\.uts\.name|lxc\.apparmor\.|lxc\.cgroup2?\.|lxc\.start\.|lxc\.autodev)/;

/**
 * The node's lxc config: the clone's own (rootfs, includes) with tpa's settings replacing any of
 * the same keys. Limits are in the cgroup version the host runs, so lxc does not ignore them.
 */
export function nodeLxcConfig(cloneConfig: string, s: NodeLxcSettings): string {
  const kept = cloneConfig
    .split('\n')
    .filter((l) => !OWNED_KEYS.test(l) && !l.startsWith('# tpa'))
    .join('\n')
    .trimEnd();
  const limits =
    s.cgroup === 'v2'
      ? [`lxc.cgroup2.memory.max = ${s.memoryMb}M`, `lxc.cgroup2.cpu.max = ${s.cpus * 100000} 100000`]
      : [
          `lxc.cgroup.memory.limit_in_bytes = ${s.memoryMb}M`,
          'lxc.cgroup.cpu.cfs_period_us = 100000',
          `lxc.cgroup.cpu.cfs_quota_us = ${s.cpus * 100000}`,
        ];
  return [
    kept,
    '',
    '# tpa: node settings (see src/platforms/lxc/node-files.ts)',
    `lxc.uts.name = ${s.hostname}`,
    'lxc.apparmor.profile = unconfined',
    'lxc.net.0.type = veth',
    `lxc.net.0.link = ${s.bridge}`,
    `lxc.net.0.veth.pair = ${s.veth}`,
    `lxc.net.0.hwaddr = ${s.mac}`,
    'lxc.net.0.flags = up',
    `lxc.net.0.ipv4.address = ${s.address}/${s.prefixLength}`,
    `lxc.net.0.ipv4.gateway = ${s.gateway}`,
    ...limits,
    '',
  ].join('\n');
}

/** A config key's value from an lxc config text (last one wins, as in lxc). */
export function configValue(config: string, key: string): string | undefined {
  let value: string | undefined;
  for (const line of config.split('\n')) {
    const m = /^\s*([a-z0-9_.]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && m[1] === key) value = m[2];
  }
  return value;
}
