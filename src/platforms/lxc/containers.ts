/**
 * lxc containers as the platform sees them: state, config, rootfs paths, and the host-side
 * handles other modules need (veth, cgroup values). Exported for fault injection and tests.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationError } from '../../core/errors.ts';
import { sh as cmd } from '../../core/shell.ts';
import { type HostShell } from './host.ts';
import { LXC_PATH } from './names.ts';
import { configValue } from './node-files.ts';

export type ContainerState =
  'RUNNING' | 'STOPPED' | 'FROZEN' | 'STARTING' | 'STOPPING' | 'ABORTING' | 'FREEZING' | 'THAWED';

export function configPath(container: string): string {
  return join(LXC_PATH, container, 'config');
}

export async function readContainerConfig(container: string): Promise<string | undefined> {
  return readFile(configPath(container), 'utf8').catch(() => undefined);
}

/** Names of all containers on the host. */
export async function listContainers(sh: HostShell): Promise<string[]> {
  const out = await sh.run('lxc-ls -1', { step: 'list containers' });
  return out
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The state of a container, or undefined when there is no such container. */
export async function containerState(sh: HostShell, container: string): Promise<ContainerState | undefined> {
  const r = await sh.test(cmd`lxc-info -n ${container} -s`);
  if (!r.ok) {
    if ((await readContainerConfig(container)) === undefined) return undefined;
    const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join('; ');
    throw new OperationError(`container ${container} exists but lxc cannot use it: ${why}`, {
      step: 'inspect',
      hint: `check ${configPath(container)}`,
    });
  }
  const state = /State:\s*(\S+)/.exec(r.stdout)?.[1];
  return state as ContainerState | undefined;
}

/**
 * The directory a container's own files live in: for an overlay clone, its upper layer (what
 * differs from the base); else its rootfs. Files written here before the first start are what
 * the node boots with.
 */
export function ownLayer(config: string): string | undefined {
  const rootfs = configValue(config, 'lxc.rootfs.path');
  if (!rootfs) return undefined;
  if (rootfs.startsWith('overlay:') || rootfs.startsWith('overlayfs:')) return rootfs.split(':').at(-1);
  return rootfs.replace(/^dir:/, '');
}

/** The host-side veth of a container (fixed by tpa in lxc.net.0.veth.pair). */
export async function hostVeth(container: string): Promise<string | undefined> {
  const config = await readContainerConfig(container);
  return config ? configValue(config, 'lxc.net.0.veth.pair') : undefined;
}

/** The node's address, from its lxc config. */
export function configAddress(config: string): string | undefined {
  return configValue(config, 'lxc.net.0.ipv4.address')?.split('/')[0];
}

/** A cgroup value of a running container (e.g. memory.limit_in_bytes on v1, memory.max on v2). */
export async function cgroupValue(sh: HostShell, container: string, key: string): Promise<string> {
  return (await sh.run(cmd`lxc-cgroup -n ${container} ${key}`, { step: 'cgroup', node: container })).trim();
}

/** Reads one file of a container's own layer (undefined when it is not there). */
export async function readOwnFile(container: string, path: string): Promise<string | undefined> {
  const config = await readContainerConfig(container);
  const layer = config ? ownLayer(config) : undefined;
  if (!layer) return undefined;
  return readFile(join(layer, path), 'utf8').catch(() => undefined);
}
