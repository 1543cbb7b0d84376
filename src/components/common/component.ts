/**
 * The OS baseline of every host (phase common): packages every later phase takes for granted,
 * the en_US.UTF-8 locale as the system default (Debian's postgresql packages create their
 * cluster with /etc/default/locale), UTC, kernel settings for a database server, every node
 * in /etc/hosts (there may be no DNS) and the admin user's authorized SSH keys.
 */
import { createHash } from 'node:crypto';
import type { Component, DeployContext, HealthCheck } from '../component.ts';
import type { InventoryHost } from '../../platforms/platform.ts';
import type { HostFacts, PhasedResources, Resource } from '../../plan/types.ts';
import { quote, sh } from '../../core/shell.ts';
import { blockAction, catProbe, probedBlock, probedLines, type BlockFile } from './managed-block.ts';

export const COMMON_PACKAGES = [
  'sudo',
  'locales',
  'tzdata',
  'rsync',
  'openssl',
  'ca-certificates',
  'procps',
  'iproute2',
  'postgresql-common',
] as const;

export const SYSTEM_LOCALE = 'en_US.UTF-8';
export const TIMEZONE = 'Etc/UTC';
export const SYSCTL_FILE = '/etc/sysctl.d/60-tpa-postgres.conf';

/**
 * Kernel settings. vm.* keys belong to the host kernel: inside a container /proc/sys/vm is
 * read-only, so they are written to the file (for machines that boot it) and applied only
 * where writable. vm.overcommit_memory=2 is deliberately not set: with no swap and the
 * default overcommit_ratio it caps usable memory at half the RAM of small instances.
 */
export const SYSCTL: Record<string, string> = {
  // keep shared_buffers and backends in RAM rather than swapped out
  'vm.swappiness': '1',
  // notice dead peers (clients, standbys, repmgr) within minutes, not two hours
  'net.ipv4.tcp_keepalive_time': '300',
  'net.ipv4.tcp_keepalive_intvl': '30',
  'net.ipv4.tcp_keepalive_probes': '5',
};

export const PROBES = {
  locales: 'common:locales',
  timezone: 'common:timezone',
  sysctl: 'common:sysctl',
  hosts: 'common:hosts',
  authorizedKeys: 'common:authorized-keys',
} as const;

const HOSTS_FILE: BlockFile = {
  pathShell: quote('/etc/hosts'),
  begin: '# BEGIN tpa hosts',
  end: '# END tpa hosts',
  mode: 0o644,
  owner: 'root',
  group: 'root',
};

export function authorizedKeysFile(user: string): BlockFile {
  return {
    // the user's home from the passwd database; fails (set -e) when the user does not exist
    pathShell: sh`"$(getent passwd ${user} | cut -d: -f6 | grep .)/.ssh/authorized_keys"`,
    begin: '# BEGIN tpa authorized keys',
    end: '# END tpa authorized keys',
    mode: 0o600,
    owner: user,
    group: user === 'root' ? 'root' : user,
    dirMode: 0o700,
  };
}

export function sysctlFileContent(): string {
  return (
    '# Managed by tpa. vm.* settings cannot be applied inside a container (they belong to the host).\n' +
    Object.entries(SYSCTL)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') +
    '\n'
  );
}

/** prints `key value writable` per setting, writable being 1 or 0 */
export function sysctlProbe(): string {
  // one sysctl process, the rest shell builtins: this runs with every fact gathering
  // (and dash's byte-wise `read` cannot read /proc/sys files)
  const paths = Object.keys(SYSCTL)
    .map((k) => sh`${k}) p=${`/proc/sys/${k.replaceAll('.', '/')}`} ;;`)
    .join(' ');
  return (
    sh`sysctl -e ${Object.keys(SYSCTL)} 2>/dev/null | while read -r k _ v; do ` +
    `case $k in ${paths} *) continue ;; esac; ` +
    'set -f; set -- $v; set +f; w=0; [ -w "$p" ] && w=1; echo "$k $* $w"; done'
  );
}

/** the keys that differ from SYSCTL and can be changed here */
export function sysctlToApply(facts: HostFacts): string[] {
  const seen = new Map<string, { value: string; writable: boolean }>();
  for (const line of (facts.probes[PROBES.sysctl] ?? '').split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length >= 3)
      seen.set(parts[0]!, { value: parts.slice(1, -1).join(' '), writable: parts.at(-1) === '1' });
  }
  return Object.entries(SYSCTL)
    .filter(([k, v]) => {
      const have = seen.get(k);
      // no probe output at all: try (the command itself skips what it cannot write)
      return have === undefined || (have.writable && have.value !== v);
    })
    .map(([k]) => k);
}

function sysctlApplyCommand(): string {
  const sets = Object.entries(SYSCTL)
    .map(([k, v]) => {
      const p = `/proc/sys/${k.replaceAll('.', '/')}`;
      return sh`if [ -w ${p} ]; then sysctl -q -w ${`${k}=${v}`} || echo ${`tpa: could not set ${k}`} >&2; fi`;
    })
    .join('\n');
  return `set -u\n${sets}\nexit 0`;
}

function localeAvailable(facts: HostFacts): boolean {
  return probedLines(facts, PROBES.locales).some((l) => l.toLowerCase() === 'en_us.utf8');
}

export function hostsLines(inventory: DeployContext['inventory']): string[] {
  return [...inventory.hosts]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((h) => `${h.address}\t${h.name}`);
}

/** every wanted `address name` pair is on some line of the probed file */
export function hostsPresent(facts: HostFacts, wanted: string[]): boolean {
  const have = new Set<string>();
  for (const line of probedLines(facts, PROBES.hosts)) {
    const [addr, ...names] = line.split(/\s+/);
    for (const n of names) have.add(`${addr}\t${n}`);
  }
  return wanted.every((w) => have.has(w));
}

/** the OpenSSH keys of access.ssh_authorized_keys plus tpa's own public key */
export function adminKeys(ctx: DeployContext): string[] {
  const own = ctx.secrets.ssh_public_key;
  const keys = [...ctx.config.access.ssh_authorized_keys, ...(own ? [own] : [])].map((k) => k.trim());
  return [...new Set(keys.filter((k) => k !== ''))];
}

/** a tpa block exists but no longer says what is wanted (a node or key was removed) */
function blockStale(block: string[] | undefined, wanted: string[]): boolean {
  if (block === undefined) return false;
  const norm = (l: string) => l.trim().split(/\s+/).join(' ');
  return block.map(norm).join('\n') !== wanted.map(norm).join('\n');
}

/** keys compare by type and base64 body: comments may differ */
const keyId = (line: string) => line.split(/\s+/).slice(0, 2).join(' ');

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export const commonComponent: Component = {
  name: 'common',
  appliesTo: () => true,

  probes(_host: InventoryHost, ctx: DeployContext) {
    return {
      [PROBES.locales]: 'locale -a 2>/dev/null || true',
      [PROBES.timezone]:
        'printf "%s|%s" "$(readlink /etc/localtime || true)" "$(cat /etc/timezone 2>/dev/null || true)"',
      [PROBES.sysctl]: sysctlProbe(),
      [PROBES.hosts]: catProbe(quote('/etc/hosts')),
      [PROBES.authorizedKeys]: `${catProbe(authorizedKeysFile(ctx.config.access.admin_user).pathShell)} 2>/dev/null || true`,
    };
  },

  desired(_host: InventoryHost, ctx: DeployContext): PhasedResources[] {
    const resources: Resource[] = COMMON_PACKAGES.map((name) => ({ kind: 'package', name }));

    resources.push({
      kind: 'action',
      id: 'common-locale',
      description: `generate the ${SYSTEM_LOCALE} locale`,
      command: [
        'set -eu',
        "grep -qx 'en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' >> /etc/locale.gen",
        'locale-gen',
      ].join('\n'),
      needed: (f) => !localeAvailable(f),
    });
    resources.push({
      kind: 'file',
      path: '/etc/default/locale',
      content: `LANG=${SYSTEM_LOCALE}\n`,
      mode: 0o644,
      owner: 'root',
      group: 'root',
    });

    const tzWanted = `/usr/share/zoneinfo/${TIMEZONE}|${TIMEZONE}`;
    resources.push({
      kind: 'action',
      id: 'common-timezone',
      description: `set the time zone to ${TIMEZONE}`,
      command: sh`set -eu\nln -sfn ${`/usr/share/zoneinfo/${TIMEZONE}`} /etc/localtime\necho ${TIMEZONE} > /etc/timezone`,
      needed: (f) => f.probes[PROBES.timezone] !== tzWanted,
    });

    const sysctl = sysctlFileContent();
    resources.push({
      kind: 'file',
      path: SYSCTL_FILE,
      content: sysctl,
      mode: 0o644,
      owner: 'root',
      group: 'root',
    });
    resources.push({
      kind: 'action',
      id: 'common-sysctl',
      description: `apply ${SYSCTL_FILE} (settings this host lets us change)`,
      command: sysctlApplyCommand(),
      needed: (f) => sysctlToApply(f).length > 0,
    });

    const hosts = hostsLines(ctx.inventory);
    resources.push(
      blockAction({
        id: 'common-etc-hosts',
        description: 'list every node of the group in /etc/hosts',
        file: HOSTS_FILE,
        lines: hosts,
        needed: (f) => !hostsPresent(f, hosts) || blockStale(probedBlock(f, PROBES.hosts, HOSTS_FILE), hosts),
      }),
    );

    const keys = adminKeys(ctx);
    if (keys.length > 0) {
      const user = ctx.config.access.admin_user;
      const file = authorizedKeysFile(user);
      resources.push(
        blockAction({
          id: 'common-authorized-keys',
          description: `authorize ${keys.length} SSH key${keys.length === 1 ? '' : 's'} for ${user} (digest ${sha(keys.join('\n')).slice(0, 12)})`,
          file,
          lines: keys,
          needed: (f) => {
            const have = new Set(probedLines(f, PROBES.authorizedKeys).map(keyId));
            return (
              !keys.every((k) => have.has(keyId(k))) ||
              blockStale(probedBlock(f, PROBES.authorizedKeys, file), keys)
            );
          },
        }),
      );
    }
    return [{ phase: 'common', resources }];
  },

  checks(): HealthCheck[] {
    return [
      { name: 'locale en_US.UTF-8 available', command: "locale -a | grep -qix 'en_us.utf8'" },
      { name: 'time zone UTC', command: `[ "$(date +%Z)" = UTC ]` },
    ];
  },
};
