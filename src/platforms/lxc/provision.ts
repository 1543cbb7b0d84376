/**
 * lxc provision: host prerequisites, the group's bridge and the shared apt proxy, the base
 * image, then one overlay clone per node, started and answering SSH. Idempotent: every step
 * looks first and changes only what differs; a second run reports no changes.
 */
import { join } from 'node:path';
import { OperationError } from '../../core/errors.ts';
import type { HostSpec } from '../../model/hosts.ts';
import { recordHostKey, removeHostKey } from '../../transport/known-hosts.ts';
import type { Inventory, InventoryHost, PlatformContext, ProvisionResult } from '../platform.ts';
import { addressOf, assignHostNumbers } from './addresses.ts';
import { ensureAptProxy } from './apt-proxy.ts';
import { baseRecipe, ensureBaseImage, pruneOldBases } from './base-image.ts';
import { ensureStackImage, pruneOldStacks, stackRecipe } from './stack-image.ts';
import { configAddress, listContainers, readContainerConfig } from './containers.ts';
import { destroyContainer } from './teardown.ts';
import { readGroupRecord, writeGroupRecord } from './group-state.ts';
import { HostShell } from './host.ts';
import { withHostLock } from './lock.ts';
import { readHostMirrors } from './mirror.ts';
import { bridgeName, containerName, nodeOfContainer, vethName } from './names.ts';
import { KNOWN_HOSTS_FILE, previousInventory, resolvePrefix } from './prefix.ts';
import {
  bridgeSubnet,
  ensureBridge,
  overlaps,
  parseSubnet,
  pickSubnet,
  subnetText,
  usedNetworks,
  type GroupNetwork,
  type Subnet,
} from './network.ts';
import { managedFiles, nodeHostKey, nodeMac } from './node.ts';
import { ensureNode, throwFailures } from './ensure-node.ts';
import { configValue, hostsFile, type NodeLxcSettings } from './node-files.ts';
import { preflight, type CgroupMode } from './preflight.ts';

const SSH_WAIT_MS = 60_000;

/**
 * The subnet the group had before, when its bridge is gone (the host rebooted): from the last
 * inventory, else from a container's address. Reused when still free, so nodes keep addresses.
 */
async function formerSubnet(ctx: PlatformContext, prefix: string): Promise<Subnet | undefined> {
  const inv = await previousInventory(ctx.dir);
  if (inv?.platform === 'lxc' && inv.network?.prefix === prefix && inv.network.subnet) {
    return parseSubnet(inv.network.subnet);
  }
  for (const h of ctx.hosts) {
    const config = await readContainerConfig(containerName(prefix, h.name));
    const cidr = config ? configValue(config, 'lxc.net.0.ipv4.address') : undefined;
    if (cidr?.includes('/')) return parseSubnet(cidr);
  }
  return undefined;
}

async function groupNetwork(sh: HostShell, ctx: PlatformContext, prefix: string): Promise<GroupNetwork> {
  const bridge = bridgeName(prefix);
  const existing = await bridgeSubnet(sh, bridge);
  const wanted = ctx.config.lxc?.subnet;
  if (existing) {
    if (wanted && subnetText(parseSubnet(wanted)) !== subnetText(existing.subnet)) {
      throw new OperationError(
        `group ${ctx.config.name} runs on ${subnetText(existing.subnet)}, config.yml asks for ${wanted}`,
        {
          step: 'network',
          hint: 'a provisioned group keeps its subnet: deprovision and provision again to move it',
        },
      );
    }
    return existing;
  }
  const used = await usedNetworks(sh);
  let subnet: Subnet | undefined;
  if (wanted) {
    const asked = parseSubnet(wanted);
    subnet = asked;
    const clash = used.find((u) => u.prefix > 0 && overlaps(u, asked));
    if (clash) {
      throw new OperationError(
        `lxc.subnet ${wanted} overlaps ${subnetText(clash)}, already in use on this host`,
        {
          step: 'network',
          hint: 'choose another lxc.subnet, or remove it from config.yml to let tpa pick a free one',
        },
      );
    }
  } else {
    const former = await formerSubnet(ctx, prefix);
    const free = (c: Subnet) => !used.some((u) => u.prefix > 0 && overlaps(u, c));
    subnet =
      former && free(former)
        ? former
        : pickSubnet(
            used.filter((u) => u.prefix > 0),
            prefix,
          );
    if (!subnet)
      throw new OperationError('no free /24 left in 10.123.0.0/16', {
        step: 'network',
        hint: 'set lxc.subnet in config.yml',
      });
  }
  return { bridge, subnet, gateway: addressOf(subnet, 1) };
}

export interface LxcProvisionOptions {
  shell?: HostShell;
}

export async function provisionLxc(
  ctx: PlatformContext,
  opts: LxcProvisionOptions = {},
): Promise<ProvisionResult> {
  const events = ctx.events;
  const sh = opts.shell ?? new HostShell(undefined, events);
  const changes: string[] = [];
  const started = Date.now();

  events({ kind: 'phase-started', phase: 'host' });
  const pf = await preflight(sh, events);
  changes.push(...pf.installed.map((p) => `installed ${p} on this host`), ...pf.raised);
  const prefix = await resolvePrefix(ctx);
  const mirrors = await readHostMirrors();
  const https = mirrors.main.startsWith('https:') || (mirrors.security?.startsWith('https:') ?? false);

  // subnet choice and bridge creation together, so two groups never pick the same subnet
  const net = await withHostLock('network', async () => {
    const n = await groupNetwork(sh, ctx, prefix);
    // recorded before anything else of the group exists: a group being built is never taken
    // for an orphan (orphans.ts) by a `deprovision --orphans` running meanwhile
    const previous = await readGroupRecord(prefix);
    await writeGroupRecord({
      prefix,
      group: ctx.config.name,
      dir: ctx.dir,
      bridge: n.bridge,
      subnet: subnetText(n.subnet),
      base: previous?.base ?? '',
      nodes: previous?.nodes ?? [],
      updatedAt: new Date().toISOString(),
    });
    changes.push(...(await ensureBridge(sh, n)));
    changes.push(...(await ensureAptProxy(sh, { https, events })));
    return n;
  });
  const recipe = baseRecipe(mirrors);
  const base = await withHostLock(
    'base',
    async () => {
      const b = await ensureBaseImage(sh, recipe, { events });
      changes.push(...(await pruneOldBases(sh, b.image.name, events)));
      if (!ctx.preinstall?.packages.length) return { ...b, clonedFrom: b.image };
      const stackOf = await stackRecipe(sh, b.image, ctx.preinstall);
      const s = await ensureStackImage(sh, b.image, stackOf, events);
      if (s.built) changes.push(`built stack image ${s.image.name}`);
      changes.push(...(await pruneOldStacks(sh, s.image, b.image.name, events)));
      return { ...b, clonedFrom: s.image };
    },
    {
      onWait: () =>
        events({ kind: 'info', message: 'waiting for another tpa process building the base image' }),
    },
  );
  if (base.built) changes.push(`built base image ${base.image.name}`);
  events({ kind: 'phase-finished', phase: 'host', ok: true, durationMs: Date.now() - started });

  const nodesStarted = Date.now();
  const names = ctx.hosts.map((h) => h.name);
  events({ kind: 'phase-started', phase: 'containers', hosts: names });
  const containers = (await listContainers(sh)).filter((c) => nodeOfContainer(prefix, c) !== undefined);

  // nodes no longer in config.yml go: provision converges the group to its description
  for (const c of containers) {
    const node = nodeOfContainer(prefix, c)!;
    if (names.includes(node)) continue;
    const address = configAddress((await readContainerConfig(c)) ?? '');
    await destroyContainer(sh, c, node);
    if (address) removeHostKey(join(ctx.dir, KNOWN_HOSTS_FILE), address, 22);
    changes.push(`${node}: removed (no longer in config.yml)`);
    events({ kind: 'task', host: node, task: 'container removed', status: 'changed' });
  }

  const known = new Map<string, string>();
  const previous = await previousInventory(ctx.dir);
  for (const h of previous?.hosts ?? []) known.set(h.name, h.address);
  for (const h of ctx.hosts) {
    const addr = configAddress((await readContainerConfig(containerName(prefix, h.name))) ?? '');
    if (addr) known.set(h.name, addr);
  }
  const numbers = assignHostNumbers(names, net.subnet, known);
  const address = (n: string) => addressOf(net.subnet, numbers.get(n)!);
  const hostsEntries = names.map((n) => ({ name: n, address: address(n) }));

  const settingsOf = (h: HostSpec, cgroup: CgroupMode): NodeLxcSettings => {
    const container = containerName(prefix, h.name);
    return {
      container,
      hostname: h.name,
      bridge: net.bridge,
      veth: vethName(prefix, numbers.get(h.name)!),
      address: address(h.name),
      prefixLength: net.subnet.prefix,
      gateway: net.gateway,
      mac: nodeMac(container),
      memoryMb: h.size.memoryMb,
      cpus: h.size.cpus,
      cgroup,
    };
  };

  const outcomes = await Promise.allSettled(
    ctx.hosts.map((h) =>
      ensureNode(sh, {
        node: h.name,
        container: containerName(prefix, h.name),
        base: base.clonedFrom.name,
        baseRootfs: base.clonedFrom.rootfs,
        settings: settingsOf(h, pf.cgroup),
        files: managedFiles(hostsFile(h.name, hostsEntries, net.gateway), ctx.authorizedKeys),
        events,
        sshWaitMs: SSH_WAIT_MS,
      }).then((c) => changes.push(...c)),
    ),
  );
  throwFailures(outcomes);

  // the host keys were generated by tpa into the rootfs: recording them needs no trust on first use
  const knownHosts = join(ctx.dir, KNOWN_HOSTS_FILE);
  for (const h of ctx.hosts) {
    const key = await nodeHostKey(containerName(prefix, h.name));
    if (!key)
      throw new OperationError(`${h.name}: no SSH host key in its rootfs`, {
        host: h.name,
        step: 'host key',
      });
    if (recordHostKey(knownHosts, address(h.name), 22, key[0], key[1]))
      changes.push(`${h.name}: host key recorded`);
  }
  events({ kind: 'phase-finished', phase: 'containers', ok: true, durationMs: Date.now() - nodesStarted });

  await writeGroupRecord({
    prefix,
    group: ctx.config.name,
    dir: ctx.dir,
    bridge: net.bridge,
    subnet: subnetText(net.subnet),
    base: base.clonedFrom.name,
    nodes: names,
    updatedAt: new Date().toISOString(),
  });

  const inventory: Inventory = {
    group: ctx.config.name,
    platform: 'lxc',
    network: {
      prefix,
      bridge: net.bridge,
      subnet: subnetText(net.subnet),
      gateway: net.gateway,
      base: base.clonedFrom.name,
    },
    hosts: ctx.hosts.map((h): InventoryHost => ({
      name: h.name,
      kind: h.kind,
      ...(h.cluster !== undefined ? { cluster: h.cluster } : {}),
      role: h.role,
      ...(h.upstream !== undefined ? { upstream: h.upstream } : {}),
      address: address(h.name),
      sshUser: 'root',
      sshPort: 22,
      instanceType: h.instanceType,
      cpus: h.size.cpus,
      memoryMb: h.size.memoryMb,
      volumeGb: h.volumeGb,
      platformId: containerName(prefix, h.name),
    })),
  };
  return { inventory, changes };
}
