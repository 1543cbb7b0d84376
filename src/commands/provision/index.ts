/**
 * `tpa provision DIR`: the machines config.yml describes, created (or adopted) by its platform,
 * reachable over SSH; DIR/inventory.json and DIR/known_hosts written and committed.
 * Idempotent: on an unchanged group it changes nothing and says so.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSink } from '../../core/events.ts';
import { loadClusterConfig } from '../../clusterdir/index.ts';
import { formatIssue } from '../../core/errors.ts';
import { hostSpecs } from '../../model/hosts.ts';
import type { Inventory, PlatformContext } from '../../platforms/platform.ts';
import { getPlatform } from '../../platforms/registry.ts';
import { preinstallFor } from '../../components/preinstall.ts';
import { generateClusterSecrets, privateKeyPath } from '../../secrets/vault.ts';
import { commitDirFiles } from '../../clusterdir/commit-files.ts';
import {
  INVENTORY_FILE,
  KNOWN_HOSTS_FILE,
  renderInventory,
  writeInventory,
} from '../../clusterdir/inventory.ts';

export interface ProvisionRequest {
  dir: string;
  events: EventSink;
}

export interface ProvisionOutcome {
  dir: string;
  group: string;
  platform: string;
  /** what changed, one line each; empty when nothing did */
  changes: string[];
  inventory: Inventory;
  /** the commit that recorded the change, or null when the directory did not change */
  commit: string | null;
  durationMs: number;
}

/** Platforms that create machines need a key tpa holds; the customer's keys are authorised too. */
const CREATES_MACHINES = new Set(['lxc', 'aws']);

/** Everything a platform needs to act on the group of DIR. */
export async function platformContext(
  dir: string,
  events: EventSink,
  opts: { beforeSecrets?: (ctx: PlatformContext) => Promise<void> } = {},
): Promise<PlatformContext & { secretFiles: string[]; generatedKey: boolean }> {
  const loaded = await loadClusterConfig(dir);
  for (const w of loaded.warnings) events({ kind: 'warning', message: formatIssue(w) });
  const config = loaded.config;
  const hosts = hostSpecs(config);
  // e.g. the platform's preflight: it must fail before anything (secrets included) is written
  await opts.beforeSecrets?.({ dir: loaded.dir, config, hosts, authorizedKeys: [], events });
  const secrets = await generateClusterSecrets(loaded.dir, {
    generateSshKey: CREATES_MACHINES.has(config.platform),
  });
  const authorizedKeys = [...config.access.ssh_authorized_keys];
  if (secrets.sshPublicKey && !authorizedKeys.includes(secrets.sshPublicKey))
    authorizedKeys.push(secrets.sshPublicKey);
  return {
    dir: loaded.dir,
    config,
    hosts,
    authorizedKeys,
    events,
    preinstall: preinstallFor(config),
    secretFiles: secrets.created.length > 0 ? secrets.files : [],
    generatedKey: secrets.created.includes('ssh_private_key'),
  };
}

export async function provision(req: ProvisionRequest): Promise<ProvisionOutcome> {
  const started = Date.now();
  const events = req.events;
  const ctx = await platformContext(req.dir, events, {
    beforeSecrets: (c) => getPlatform(c.config.platform).preflight(c),
  });
  if (ctx.generatedKey)
    events({ kind: 'info', message: 'generated the SSH key pair tpa uses to reach the machines' });
  const platform = getPlatform(ctx.config.platform);
  const result = await platform.provision(ctx);

  // hosts reached with tpa's own key get its path (kept outside the directory, see secrets/vault.ts)
  let keyPath: string | undefined;
  for (const h of result.inventory.hosts) {
    if (h.sshKey === undefined && CREATES_MACHINES.has(ctx.config.platform)) {
      keyPath ??= await privateKeyPath(ctx.dir);
      h.sshKey = keyPath;
    }
  }
  const before = await readFile(join(ctx.dir, INVENTORY_FILE), 'utf8').catch(() => undefined);
  const changes = [...result.changes];
  if (before !== renderInventory(result.inventory)) {
    await writeInventory(ctx.dir, result.inventory);
    changes.push(`${INVENTORY_FILE} written`);
  }
  const commit = await commitDirFiles(
    ctx.dir,
    [INVENTORY_FILE, KNOWN_HOSTS_FILE, ...ctx.secretFiles],
    `provision: ${result.inventory.hosts.length} ${ctx.config.platform} hosts` +
      (changes.length ? `\n\n${changes.map((c) => `- ${c}`).join('\n')}` : ''),
  );
  const durationMs = Date.now() - started;
  events({
    kind: 'done',
    ok: true,
    summary: changes.length
      ? `provisioned ${result.inventory.hosts.length} hosts: ${changes.length} changes in ${(durationMs / 1000).toFixed(1)} s`
      : `no changes: all ${result.inventory.hosts.length} hosts are provisioned and answer SSH`,
  });
  return {
    dir: ctx.dir,
    group: ctx.config.name,
    platform: ctx.config.platform,
    changes,
    inventory: result.inventory,
    commit,
    durationMs,
  };
}
