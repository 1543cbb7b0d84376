/**
 * The bare platform: hosts that already exist, reachable over SSH. Provision creates nothing;
 * it adopts each host after checking it can carry a node (see checks.ts), records its SSH host
 * key on first contact (trust on first use, fingerprint shown) and describes it in the inventory.
 * Deprovision leaves the hosts as they are.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { isTpaError, OperationError } from '../../core/errors.ts';
import type { HostSpec } from '../../model/hosts.ts';
import { getSecret } from '../../secrets/vault.ts';
import { lookupHostKey, recordHostKey } from '../../transport/known-hosts.ts';
import { SshTransport } from '../../transport/ssh.ts';
import type { SshTarget } from '../../transport/transport.ts';
import type { Inventory, InventoryHost, Platform, PlatformContext, ProvisionResult } from '../platform.ts';
import { checkBareHost, type BareFacts } from './checks.ts';

/** The cluster directory's known_hosts (the file every SSH connection of tpa checks against). */
const KNOWN_HOSTS_FILE = 'known_hosts';
const INVENTORY_FILE = 'inventory.json';

/** OpenSSH's fingerprint of a host key: SHA256 of the key blob, base64 without padding. */
export function fingerprint(keyBase64: string): string {
  const digest = createHash('sha256').update(Buffer.from(keyBase64, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

interface Access {
  address: string;
  port: number;
  user: string;
  /** path of the private key file, or undefined for the cluster's generated key */
  keyFile: string | undefined;
}

function accessOf(ctx: PlatformContext, h: HostSpec): Access {
  if (!h.address) {
    throw new OperationError(`${h.name} has no address`, {
      host: h.name,
      step: 'config',
      hint: 'platform bare needs address: for every host in config.yml',
    });
  }
  return {
    address: h.address,
    port: h.sshPort ?? 22,
    user: h.sshUser ?? ctx.config.access.admin_user,
    keyFile:
      h.sshKey === undefined ? undefined : isAbsolute(h.sshKey) ? h.sshKey : resolve(ctx.dir, h.sshKey),
  };
}

async function privateKey(ctx: PlatformContext, h: HostSpec, a: Access): Promise<string> {
  if (a.keyFile === undefined) return getSecret(ctx.dir, 'ssh_private_key');
  return readFile(a.keyFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new OperationError(`${h.name}: cannot read ssh_key ${a.keyFile}: ${e.code ?? e.message}`, {
      host: h.name,
      step: 'ssh key',
      hint: `ssh_key of ${h.name} in config.yml must name a readable private key file`,
    });
  });
}

interface Adopted {
  host: InventoryHost;
  facts: BareFacts;
  /** the host key seen on first contact, to record once the host passed its checks */
  newKey?: { type: string; key: string };
}

async function adopt(ctx: PlatformContext, h: HostSpec): Promise<Adopted> {
  const a = accessOf(ctx, h);
  const knownHosts = join(ctx.dir, KNOWN_HOSTS_FILE);
  const recorded = lookupHostKey(knownHosts, a.address, a.port);
  let newKey: { type: string; key: string } | undefined;
  const target: SshTarget = {
    host: h.name,
    address: a.address,
    port: a.port,
    user: a.user,
    privateKey: await privateKey(ctx, h, a),
    ...(recorded
      ? { hostKey: recorded.key }
      : {
          onHostKey: (key: string, type: string) => {
            newKey = { key, type };
          },
        }),
  };
  const t = new SshTransport(target, {
    connectTimeoutMs: 10_000,
    connectRetries: 1,
    knownHostsPath: knownHosts,
  });
  try {
    await t.connect();
    if (newKey) {
      ctx.events({
        kind: 'warning',
        host: h.name,
        message: `first contact with ${a.address}:${a.port}: trusting its ${newKey.type} host key ${fingerprint(newKey.key)} (checked strictly from now on)`,
      });
    }
    const facts = await checkBareHost(t, a.user);
    const host: InventoryHost = {
      name: h.name,
      kind: h.kind,
      ...(h.cluster !== undefined ? { cluster: h.cluster } : {}),
      role: h.role,
      ...(h.upstream !== undefined ? { upstream: h.upstream } : {}),
      address: a.address,
      sshUser: a.user,
      sshPort: a.port,
      ...(h.sshKey !== undefined ? { sshKey: h.sshKey } : {}),
      instanceType: h.instanceType,
      // what the host has, not what the instance type says
      cpus: facts.cpus ?? h.size.cpus,
      memoryMb: facts.memoryMb ?? h.size.memoryMb,
      volumeGb: h.volumeGb,
      platformId: `${a.user}@${a.address}:${a.port}`,
    };
    return { host, facts, ...(newKey ? { newKey } : {}) };
  } finally {
    await t.close();
  }
}

async function previousHosts(dir: string): Promise<Map<string, InventoryHost>> {
  const text = await readFile(join(dir, INVENTORY_FILE), 'utf8').catch(() => '');
  try {
    const inv = JSON.parse(text) as Inventory;
    return new Map(inv.platform === 'bare' ? inv.hosts.map((h) => [h.name, h]) : []);
  } catch {
    return new Map();
  }
}

async function provisionBare(ctx: PlatformContext): Promise<ProvisionResult> {
  const started = Date.now();
  const names = ctx.hosts.map((h) => h.name);
  ctx.events({ kind: 'phase-started', phase: 'adopt hosts', hosts: names });
  const outcomes = await Promise.allSettled(ctx.hosts.map((h) => adopt(ctx, h)));
  const failures: { host: string; error: unknown }[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === 'rejected') {
      failures.push({ host: names[i]!, error: o.reason });
      const message = o.reason instanceof Error ? o.reason.message : String(o.reason);
      ctx.events({ kind: 'task', host: names[i]!, task: 'adopt', status: 'failed', detail: message });
    }
  });
  if (failures.length > 0) {
    ctx.events({ kind: 'phase-finished', phase: 'adopt hosts', ok: false, durationMs: Date.now() - started });
    if (failures.length === 1 && isTpaError(failures[0]!.error)) throw failures[0]!.error;
    const lines = failures.map((f) =>
      f.error instanceof Error ? f.error.message : `${f.host}: ${String(f.error)}`,
    );
    const first = failures.find((f) => isTpaError(f.error))?.error;
    throw new OperationError(`${failures.length} hosts cannot be adopted:\n${lines.join('\n')}`, {
      step: 'adopt',
      ...(isTpaError(first) && first.hint ? { hint: first.hint } : {}),
    });
  }

  const adopted = outcomes.map((o) => (o as PromiseFulfilledResult<Adopted>).value);
  const before = await previousHosts(ctx.dir);
  const changes: string[] = [];
  const knownHosts = join(ctx.dir, KNOWN_HOSTS_FILE);
  for (const { host, facts, newKey } of adopted) {
    if (newKey && recordHostKey(knownHosts, host.address, host.sshPort, newKey.type, newKey.key)) {
      changes.push(`${host.name}: host key ${fingerprint(newKey.key)} recorded`);
    }
    const old = before.get(host.name);
    const isNew =
      !old || old.address !== host.address || old.sshPort !== host.sshPort || old.sshUser !== host.sshUser;
    if (isNew) changes.push(`${host.name}: adopted ${host.sshUser}@${host.address}:${host.sshPort}`);
    ctx.events({
      kind: 'task',
      host: host.name,
      task: 'adopt',
      status: isNew ? 'changed' : 'ok',
      detail: `${facts.osName}, ${host.cpus} cpu, ${host.memoryMb} MB, ${((facts.freeKb ?? 0) / 1048576).toFixed(1)} GiB free on /var/lib`,
    });
  }
  for (const name of before.keys()) {
    if (!names.includes(name))
      changes.push(`${name}: forgotten (no longer in config.yml; nothing removed on it)`);
  }
  ctx.events({ kind: 'phase-finished', phase: 'adopt hosts', ok: true, durationMs: Date.now() - started });
  return {
    inventory: { group: ctx.config.name, platform: 'bare', hosts: adopted.map((a) => a.host) },
    changes,
  };
}

export const barePlatform: Platform = {
  name: 'bare',
  preflight(ctx: PlatformContext): Promise<void> {
    for (const h of ctx.hosts) accessOf(ctx, h);
    return Promise.resolve();
  },
  provision: provisionBare,
  deprovision(ctx: PlatformContext): Promise<{ changes: string[] }> {
    ctx.events({
      kind: 'info',
      message: `platform bare: nothing is removed on the hosts (${ctx.hosts.map((h) => h.name).join(', ')}); only the inventory is forgotten`,
    });
    return Promise.resolve({ changes: [] });
  },
};
