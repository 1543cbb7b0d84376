/**
 * One node: an overlay clone of the base, made into its own machine before its first start
 * (config, hostname, host keys, machine-id, /etc/hosts, apt proxy, root's authorized_keys),
 * and kept converged on later runs.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OperationError } from '../../core/errors.ts';
import { sh as cmd } from '../../core/shell.ts';
import { failure, type HostShell } from './host.ts';
import { configPath, containerState, ownLayer, readContainerConfig } from './containers.ts';
import { stableMac } from './network.ts';
import {
  aptProxyConf,
  nodeLxcConfig,
  SSHD_HOSTKEYS,
  SSHD_HOSTKEYS_PATH,
  type NodeLxcSettings,
} from './node-files.ts';

export interface NodeFile {
  path: string;
  content: string;
  mode: number;
}

/** The files that differ per node and that provision keeps up to date on every run. */
export function managedFiles(hosts: string, authorizedKeys: string[]): NodeFile[] {
  return [
    { path: '/etc/hosts', content: hosts, mode: 0o644 },
    {
      path: '/root/.ssh/authorized_keys',
      content: authorizedKeys.map((k) => k.trim()).join('\n') + '\n',
      mode: 0o600,
    },
  ];
}

/** Files written once, when the node is created. */
function firstBootFiles(hostname: string): NodeFile[] {
  return [
    { path: '/etc/hostname', content: `${hostname}\n`, mode: 0o644 },
    { path: '/etc/machine-id', content: `${randomBytes(16).toString('hex')}\n`, mode: 0o444 },
    { path: '/etc/apt/apt.conf.d/01tpa-proxy', content: aptProxyConf(), mode: 0o644 },
    { path: SSHD_HOSTKEYS_PATH, content: SSHD_HOSTKEYS, mode: 0o644 },
  ];
}

/**
 * Creates the directories of `rel` in an overlay's upper layer with the owner and mode they have
 * in the base (an upper directory's attributes win over the lower one's), then writes the file.
 */
async function writeLayerFile(layer: string, lower: string, file: NodeFile): Promise<void> {
  const parts = dirname(file.path).split('/').filter(Boolean);
  let rel = '';
  for (const part of parts) {
    rel += `/${part}`;
    const upper = join(layer, rel);
    if (await lstat(upper).catch(() => undefined)) continue;
    const model = await stat(join(lower, rel)).catch(() => undefined);
    await mkdir(upper);
    await chmod(upper, model ? model.mode & 0o7777 : rel.startsWith('/root') ? 0o700 : 0o755);
    await chown(upper, model?.uid ?? 0, model?.gid ?? 0);
  }
  const target = join(layer, file.path);
  await rm(target, { force: true });
  await writeFile(target, file.content, { mode: file.mode });
  await chmod(target, file.mode);
  await chown(target, 0, 0);
}

export interface NewNode {
  node: string;
  container: string;
  base: string;
  baseRootfs: string;
  settings: NodeLxcSettings;
  files: NodeFile[];
}

/** lxc-copy of the base, then everything the node boots with; the node is left stopped. */
export async function createNode(sh: HostShell, n: NewNode): Promise<void> {
  const where = (step: string) => ({ node: n.node, step });
  await sh.run(cmd`lxc-copy -n ${n.base} -N ${n.container} -s -B overlayfs`, where('clone base'));
  try {
    const clone = await readContainerConfig(n.container);
    const layer = clone ? ownLayer(clone) : undefined;
    if (!clone || !layer)
      throw new OperationError(`${n.node}: the clone ${n.container} has no rootfs in its config`);
    await writeFile(configPath(n.container), nodeLxcConfig(clone, n.settings));
    for (const f of [...firstBootFiles(n.settings.hostname), ...n.files]) {
      await writeLayerFile(layer, n.baseRootfs, f);
    }
    const key = join(layer, 'etc/ssh/ssh_host_ed25519_key');
    await sh.run(
      cmd`ssh-keygen -q -t ed25519 -N '' -C ${`root@${n.settings.hostname}`} -f ${key}`,
      where('host key'),
    );
  } catch (e) {
    // a half-made node would be taken for a finished one next time: remove it
    await sh.test(cmd`lxc-destroy -n ${n.container}`);
    throw failure(e, where('configure clone'));
  }
}

/** Rewrites the node's lxc config when tpa's settings changed; limits are applied live when it runs. */
export async function convergeConfig(
  sh: HostShell,
  node: string,
  container: string,
  s: NodeLxcSettings,
): Promise<string[]> {
  const current = await readContainerConfig(container);
  if (current === undefined)
    throw new OperationError(`${node}: container ${container} has no config`, { host: node });
  const wanted = nodeLxcConfig(current, s);
  if (wanted === current) return [];
  await writeFile(configPath(container), wanted);
  const changes = [`${node}: lxc config updated`];
  if ((await containerState(sh, container)) === 'RUNNING') {
    const live =
      s.cgroup === 'v2'
        ? [
            ['memory.max', s.memoryMb * 1024 * 1024],
            ['cpu.max', `${s.cpus * 100000} 100000`],
          ]
        : [
            ['memory.limit_in_bytes', s.memoryMb * 1024 * 1024],
            ['cpu.cfs_quota_us', s.cpus * 100000],
          ];
    for (const kv of live) await sh.run(cmd`lxc-cgroup -n ${container} ${kv}`, { node, step: 'limits' });
    changes.push(`${node}: limits ${s.memoryMb} MB / ${s.cpus} CPU applied live`);
  }
  return changes;
}

/** Brings the managed files up to date: in the layer when stopped, through lxc-attach when running. */
export async function convergeFiles(
  sh: HostShell,
  node: string,
  container: string,
  baseRootfs: string,
  files: NodeFile[],
): Promise<string[]> {
  const config = await readContainerConfig(container);
  const layer = config ? ownLayer(config) : undefined;
  if (!layer) throw new OperationError(`${node}: container ${container} has no rootfs`, { host: node });
  const running = (await containerState(sh, container)) === 'RUNNING';
  const changes: string[] = [];
  for (const f of files) {
    // what the node sees: its own layer when it has the file, else the base's
    const current =
      (await readFile(join(layer, f.path), 'utf8').catch(() => undefined)) ??
      (await readFile(join(baseRootfs, f.path), 'utf8').catch(() => undefined));
    if (current === f.content) continue;
    if (running) {
      const dir = dirname(f.path);
      const mode = f.mode.toString(8);
      const script = cmd`set -e; mkdir -p ${dir}; t=$(mktemp ${`${f.path}.tpa-XXXXXX`}); cat > "$t"; chmod ${mode} "$t"; mv -f "$t" ${f.path}`;
      await sh.run(
        cmd`lxc-attach -n ${container} -- sh -c ${script}`,
        { node, step: `write ${f.path}` },
        { stdin: f.content },
      );
    } else {
      await writeLayerFile(layer, baseRootfs, f);
    }
    changes.push(`${node}: ${f.path} updated`);
  }
  return changes;
}

/** The node's SSH host key as recorded at creation: [type, base64]. */
export async function nodeHostKey(container: string): Promise<[string, string] | undefined> {
  const config = await readContainerConfig(container);
  const layer = config ? ownLayer(config) : undefined;
  if (!layer) return undefined;
  const pub = await readFile(join(layer, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').catch(() => '');
  const [type, key] = pub.trim().split(/\s+/);
  return type && key ? [type, key] : undefined;
}

/** A MAC per container, stable across re-creation. */
export function nodeMac(container: string): string {
  return stableMac(`mac:${container}`);
}
