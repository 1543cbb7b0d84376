/**
 * lxc deprovision: removes exactly what a group owns (its containers, bridge, leftover veths,
 * nft tables and cgroup directories, its host record) and leaves other groups running. The
 * shared apt proxy goes only with the last group; the base image and package cache stay.
 */
import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSink } from '../../core/events.ts';
import type { PlatformContext } from '../platform.ts';
import { removeAptProxy } from './apt-proxy.ts';
import { containerState, listContainers } from './containers.ts';
import { removeGroupRecord } from './group-state.ts';
import { sh as cmd } from '../../core/shell.ts';
import { HostShell } from './host.ts';
import { withHostLock } from './lock.ts';
import { bridgeName, nodeOfContainer, ownedByGroup } from './names.ts';
import { linksWithPrefix, tpaBridges } from './network.ts';
import { resolvePrefix } from './prefix.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Stops (hard) and destroys one container. */
export async function destroyContainer(sh: HostShell, container: string, node?: string): Promise<void> {
  const where = { step: 'destroy', ...(node !== undefined ? { node } : {}) };
  const state = await containerState(sh, container);
  if (state === undefined) return;
  if (state === 'FROZEN') await sh.test(cmd`lxc-unfreeze -n ${container}`);
  if (state !== 'STOPPED') await sh.run(cmd`lxc-stop -k -n ${container}`, where, { timeoutMs: 60_000 });
  await sh.run(cmd`lxc-destroy -n ${container}`, where, { timeoutMs: 120_000 });
  await removeCgroupDirs([container]);
}

/**
 * cgroup directories lxc leaves behind on a hybrid v1/v2 host: the containers' own
 * (lxc.payload.NAME, lxc.monitor.NAME) and, with `pivot`, the shared `lxc.pivot` (only when no
 * container is active: lxc uses it while one starts or stops). rmdir removes only empty
 * directories, so a cgroup in use is never taken away.
 */
export async function removeCgroupDirs(
  containers: string[],
  opts: { pivot?: boolean } = {},
): Promise<string[]> {
  const removed: string[] = [];
  const hierarchies = await readdir(CGROUP_ROOT).catch(() => [] as string[]);
  const roots = [CGROUP_ROOT, ...hierarchies.map((h) => join(CGROUP_ROOT, h))];
  const names = new Set(containers.flatMap((c) => [`lxc.payload.${c}`, `lxc.monitor.${c}`]));
  if (opts.pivot) names.add('lxc.pivot');
  for (const root of roots) {
    for (const sub of ['', 'lxc']) {
      const dir = join(root, sub);
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (!e.isDirectory() || !names.has(e.name)) continue;
        const path = join(dir, e.name);
        if (await rmTree(path)) removed.push(path);
      }
    }
  }
  return removed;
}

/** rmdir of a cgroup and its (empty) children, deepest first; false when something is in use. */
async function rmTree(path: string): Promise<boolean> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await rmTree(join(path, e.name));
  return rmdir(path).then(
    () => true,
    () => false,
  );
}

/** nft tables (any family) whose name starts with the prefix. */
export async function groupNftTables(
  sh: HostShell,
  prefix: string,
): Promise<Array<{ family: string; name: string }>> {
  const r = await sh.test('nft list tables');
  if (!r.ok) return [];
  const tables: Array<{ family: string; name: string }> = [];
  for (const m of r.stdout.matchAll(/^table (\S+) (\S+)$/gm)) {
    if (ownedByGroup(prefix, m[2]!)) tables.push({ family: m[1]!, name: m[2]! });
  }
  return tables;
}

export interface LxcDeprovisionOptions {
  shell?: HostShell;
}

export async function deprovisionLxc(
  ctx: PlatformContext,
  opts: LxcDeprovisionOptions = {},
): Promise<{ changes: string[] }> {
  const sh = opts.shell ?? new HostShell(undefined, ctx.events);
  return removeGroupByPrefix(sh, await resolvePrefix(ctx), ctx.events);
}

/** Everything of the group with this prefix, gone; also when its cluster directory is gone. */
export async function removeGroupByPrefix(
  sh: HostShell,
  prefix: string,
  events: EventSink,
): Promise<{ changes: string[] }> {
  const changes: string[] = [];
  const started = Date.now();
  events({ kind: 'phase-started', phase: 'deprovision' });

  const containers = (await listContainers(sh)).filter((c) => nodeOfContainer(prefix, c) !== undefined);
  await Promise.all(
    containers.map(async (c) => {
      const node = nodeOfContainer(prefix, c)!;
      await destroyContainer(sh, c, node);
      changes.push(`${node}: destroyed ${c}`);
      events({ kind: 'task', host: node, task: `container ${c}`, status: 'changed', detail: 'destroyed' });
    }),
  );
  for (const t of await groupNftTables(sh, prefix)) {
    await sh.run(cmd`nft delete table ${t.family} ${t.name}`, { step: 'nft' });
    changes.push(`removed nft table ${t.family} ${t.name}`);
  }
  await withHostLock('network', async () => {
    // the bridge last: leftover veths first (a container that died uncleanly may leave one)
    const links = await linksWithPrefix(sh, prefix);
    const bridge = bridgeName(prefix);
    for (const l of [...links.filter((x) => x !== bridge), ...links.filter((x) => x === bridge)]) {
      await sh.run(cmd`ip link del ${l}`, { step: 'network' });
      changes.push(`removed ${l === bridge ? 'bridge' : 'interface'} ${l}`);
    }
    if ((await tpaBridges(sh)).length === 0) changes.push(...(await removeAptProxy(sh)));
  });
  const active = (await sh.run('lxc-ls -1 --active', { step: 'cgroups' })).trim();
  for (const d of await removeCgroupDirs(containers, { pivot: active === '' }))
    changes.push(`removed cgroup ${d}`);
  if (await removeGroupRecord(prefix)) changes.push(`removed host record of ${prefix}`);
  events({ kind: 'phase-finished', phase: 'deprovision', ok: true, durationMs: Date.now() - started });
  return { changes };
}
