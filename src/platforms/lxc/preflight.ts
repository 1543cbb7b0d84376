/**
 * What the lxc platform needs from the host, checked before anything changes: root, cgroups
 * with a memory controller, overlayfs, and the tools (installed with apt-get when missing).
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import { OperationError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { progressSink } from './progress.ts';
import { sh as cmd } from '../../core/shell.ts';
import { type HostShell } from './host.ts';

export type CgroupMode = 'v1' | 'v2';

/** Commands the platform runs, and the Debian package each comes from. */
export const REQUIRED_TOOLS: Array<{ command: string; pkg: string; why: string }> = [
  { command: 'lxc-create', pkg: 'lxc', why: 'to create the containers' },
  { command: 'debootstrap', pkg: 'debootstrap', why: "to build the base image (lxc's debian template)" },
  { command: 'apt-cacher-ng', pkg: 'apt-cacher-ng', why: 'the containers get their packages through it' },
  { command: 'nft', pkg: 'nftables', why: 'network partitions between nodes (fault injection)' },
  { command: 'ip', pkg: 'iproute2', why: 'to create the group bridge' },
  { command: 'ssh-keygen', pkg: 'openssh-client', why: "to generate the nodes' SSH host keys" },
];

/** Host cgroups: v2 when the unified hierarchy is mounted at the top, else v1 (legacy or hybrid). */
export async function cgroupMode(): Promise<CgroupMode> {
  return (await exists('/sys/fs/cgroup/cgroup.controllers')) ? 'v2' : 'v1';
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function missingTools(sh: HostShell): Promise<typeof REQUIRED_TOOLS> {
  const missing: typeof REQUIRED_TOOLS = [];
  for (const t of REQUIRED_TOOLS) {
    if (!(await sh.test(cmd`command -v ${t.command}`)).ok) missing.push(t);
  }
  return missing;
}

/**
 * Kernel limits shared by all containers: every node's systemd takes inotify instances from the
 * host root's allowance (128 by default), and past it systemd inside a new container stalls
 * ("Too many open files") and sshd never starts. Raised at run time, never lowered.
 */
export const KERNEL_MINIMUMS: Array<{ key: string; min: number }> = [
  { key: 'fs/inotify/max_user_instances', min: 8192 },
  { key: 'fs/inotify/max_user_watches', min: 524288 },
];

export async function raiseKernelLimits(events: EventSink): Promise<string[]> {
  const changes: string[] = [];
  for (const { key, min } of KERNEL_MINIMUMS) {
    const path = `/proc/sys/${key}`;
    const current = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (!Number.isFinite(current) || current >= min) continue;
    await writeFile(path, `${min}\n`);
    const name = key.replace(/\//g, '.');
    changes.push(`raised ${name} from ${current} to ${min}`);
    events({
      kind: 'info',
      message: `raised ${name} from ${current} to ${min}: every container's systemd needs some`,
    });
  }
  return changes;
}

export interface PreflightResult {
  cgroup: CgroupMode;
  installed: string[];
  /** kernel limits raised */
  raised: string[];
}

/**
 * Services of packages tpa installed for itself that must not start at boot: the stock
 * apt-cacher-ng listens on every address (and on tpa's port), lxc-net makes lxcbr0 with NAT.
 * tpa runs its own apt proxy and bridges instead.
 */
const STOCK_SERVICES: Record<string, string> = { 'apt-cacher-ng': 'apt-cacher-ng', lxc: 'lxc-net' };

async function disableStockServices(sh: HostShell, pkgs: string[], events: EventSink): Promise<void> {
  const systemd = await exists('/run/systemd/system');
  for (const pkg of pkgs) {
    const service = STOCK_SERVICES[pkg];
    if (!service) continue;
    if (systemd) await sh.test(cmd`systemctl disable --now ${service}`);
    await sh.test(cmd`update-rc.d ${service} disable`);
    events({
      kind: 'info',
      message: `disabled the ${service} service of the new package (tpa runs what it needs itself)`,
    });
  }
}

/**
 * Throws (before changing anything) when the host cannot run the platform; installs missing
 * tools. Containers are privileged (tpa runs as root), so user namespaces are not needed.
 */
export async function preflight(sh: HostShell, events: EventSink): Promise<PreflightResult> {
  if (process.getuid?.() !== 0) {
    throw new OperationError(
      'the lxc platform needs root: it creates containers, bridges and a package proxy',
      {
        step: 'preflight',
        hint: 'run tpa as root (e.g. sudo bin/tpa provision DIR)',
      },
    );
  }
  const cgroup = await cgroupMode();
  const memory =
    cgroup === 'v2'
      ? (await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').catch(() => ''))
          .split(/\s+/)
          .includes('memory')
      : await exists('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  if (!memory) {
    throw new OperationError('no cgroup memory controller on this host: node sizes cannot be enforced', {
      step: 'preflight',
      hint: 'mount cgroups (v2 at /sys/fs/cgroup, or v1 with the memory controller)',
    });
  }
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  if (!/\boverlay\b/.test(filesystems) && !(await sh.test('modprobe overlay')).ok) {
    throw new OperationError('the kernel has no overlayfs: nodes are overlay clones of the base image', {
      step: 'preflight',
      hint: 'load the overlay module (modprobe overlay)',
    });
  }
  const missing = await missingTools(sh);
  const installed: string[] = [];
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    for (const m of missing) {
      events({
        kind: 'info',
        message: `installing ${m.pkg} on this host: ${m.command} is missing (${m.why})`,
      });
    }
    // a policy-rc.d keeps the packages' own daemons (apt-cacher-ng on every address, lxc-net)
    // from starting: tpa runs what it needs itself
    const policy = '/usr/sbin/policy-rc.d';
    const hadPolicy = await exists(policy);
    try {
      if (!hadPolicy)
        await sh.run(cmd`printf '#!/bin/sh\\nexit 101\\n' > ${policy} && chmod 755 ${policy}`, {
          step: 'preflight',
        });
      const progress = progressSink(events, 'host packages');
      await sh.run(
        'apt-get -q update',
        { step: 'install host packages' },
        { timeoutMs: 10 * 60_000, events: progress },
      );
      await sh.run(
        cmd`DEBIAN_FRONTEND=noninteractive apt-get -q install -y ${pkgs}`,
        { step: 'install host packages', hint: `install them by hand: apt-get install ${pkgs.join(' ')}` },
        { timeoutMs: 10 * 60_000, events: progress },
      );
    } finally {
      if (!hadPolicy) await sh.test(cmd`rm -f ${policy}`);
    }
    installed.push(...pkgs);
    await disableStockServices(sh, pkgs, events);
  }
  const raised = await raiseKernelLimits(events);
  return { cgroup, installed, raised };
}
