/**
 * From a cluster directory to SSH sessions with its hosts: config.yml + inventory.json +
 * known_hosts -> a TransportPool of SshTransports that accept only the host keys recorded at
 * provision time. Every command that works on the hosts (ping, deploy, status, ...) starts here.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { OperationError } from '../core/errors.ts';
import type { EventSink } from '../core/events.ts';
import { loadClusterConfig } from './dir.ts';
import type { ClusterGroupConfig } from '../model/schema.ts';
import type { Inventory, InventoryHost } from '../platforms/platform.ts';
import { getSecret, privateKeyPath } from '../secrets/vault.ts';
import { lookupHostKey } from '../transport/known-hosts.ts';
import { TransportPool } from '../transport/pool.ts';
import { SshTransport, type SshTransportOptions } from '../transport/ssh.ts';
import type { SshTarget } from '../transport/transport.ts';
import { inventoryHost, KNOWN_HOSTS_FILE, readInventory } from './inventory.ts';

export function knownHostsPath(dir: string): string {
  return join(dir, KNOWN_HOSTS_FILE);
}

/**
 * The private key file for a host: its own ssh_key (bare hosts; relative to the directory),
 * else the cluster's generated key, written 0600 outside the directory.
 */
export async function privateKeyFileFor(dir: string, host: InventoryHost): Promise<string> {
  if (!host.sshKey) return privateKeyPath(dir);
  const file = isAbsolute(host.sshKey) ? host.sshKey : resolve(dir, host.sshKey);
  if (existsSync(file)) return file;
  // provision records tpa's own key file for the hosts it made; that file lives outside DIR and
  // may have been cleaned away since: it is rewritten from the vault on demand
  const own = await privateKeyPath(dir).catch(() => undefined);
  if (own === file) return own;
  throw new OperationError(`${host.name}: the SSH key ${file} does not exist`, {
    host: host.name,
    step: 'connect',
    hint: `fix ssh_key of ${host.name} in config.yml and run tpa provision again`,
  });
}

async function privateKeyOf(dir: string, host: InventoryHost): Promise<string> {
  if (!host.sshKey) return getSecret(dir, 'ssh_private_key');
  const file = await privateKeyFileFor(dir, host);
  return readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new OperationError(`${host.name}: cannot read the SSH key ${file}: ${e.code ?? e.message}`, {
      host: host.name,
      step: 'connect',
      hint: 'tpa needs to read the key file (run tpa as its owner)',
    });
  });
}

/**
 * How to reach one host, pinned to the host key in known_hosts. A host with no recorded key is
 * refused rather than trusted: only provision records keys.
 */
export async function sshTargetFor(dir: string, host: InventoryHost): Promise<SshTarget> {
  const recorded = lookupHostKey(knownHostsPath(dir), host.address, host.sshPort);
  if (!recorded) {
    throw new OperationError(
      `${host.name}: no SSH host key recorded for ${host.address}:${host.sshPort} in ${knownHostsPath(dir)}`,
      { host: host.name, step: 'connect', hint: `run tpa provision ${dir}: it records the host keys` },
    );
  }
  return {
    host: host.name,
    address: host.address,
    port: host.sshPort,
    user: host.sshUser,
    privateKey: await privateKeyOf(dir, host),
    hostKey: recorded.key,
  };
}

export interface ClusterAccess {
  /** absolute path of the cluster directory */
  dir: string;
  config: ClusterGroupConfig;
  inventory: Inventory;
  /** one SshTransport per host, opened on first use */
  pool: TransportPool;
  /** names of the inventory's hosts, in inventory order */
  hosts: string[];
  close(): Promise<void>;
}

export interface ConnectOptions {
  events?: EventSink;
  /** passed to every SshTransport (e.g. a short connectTimeoutMs for ping) */
  transport?: SshTransportOptions;
  concurrency?: number;
}

/**
 * Opens nothing yet: loads config, inventory and keys, and returns a pool whose transports
 * connect on first use. A host whose target cannot be built (no recorded key, unreadable key
 * file) fails when it is used, as its own outcome in pool.all().
 */
export async function connectCluster(dir: string, opts: ConnectOptions = {}): Promise<ClusterAccess> {
  const { dir: abs, config } = await loadClusterConfig(dir);
  const inventory = await readInventory(abs);
  const targets = new Map<string, SshTarget | Error>();
  await Promise.all(
    inventory.hosts.map(async (h) => {
      targets.set(
        h.name,
        await sshTargetFor(abs, h).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
      );
    }),
  );
  const transportOpts: SshTransportOptions = {
    knownHostsPath: knownHostsPath(abs),
    ...(opts.events ? { events: opts.events } : {}),
    ...opts.transport,
  };
  const pool = new TransportPool(
    (host) => {
      const target = targets.get(host);
      if (target === undefined) inventoryHost(inventory, host);
      if (target instanceof Error) throw target;
      return new SshTransport(target!, transportOpts);
    },
    opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {},
  );
  return {
    dir: abs,
    config,
    inventory,
    pool,
    hosts: inventory.hosts.map((h) => h.name),
    close: () => pool.closeAll(),
  };
}
