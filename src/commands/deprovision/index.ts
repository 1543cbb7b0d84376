/**
 * `tpa deprovision DIR`: destroys the group's machines and everything its platform made for it;
 * other groups keep running. inventory.json and known_hosts leave the directory (committed), and
 * config.yml stays, so `tpa provision DIR` builds the group again.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { loadClusterConfig } from '../../clusterdir/index.ts';
import { hostSpecs } from '../../model/hosts.ts';
import type { OrphanGroup } from '../../platforms/platform.ts';
import { getPlatform } from '../../platforms/registry.ts';
import { removeCachedPrivateKey } from '../../secrets/vault.ts';
import { commitDirFiles } from '../../clusterdir/commit-files.ts';
import { INVENTORY_FILE, KNOWN_HOSTS_FILE, maybeReadInventory } from '../../clusterdir/inventory.ts';
import { requireConfirmation } from '../confirm.ts';

export interface DeprovisionRequest {
  dir: string;
  events: EventSink;
  /** asked before anything is destroyed (unless yes); resolves to the answer */
  confirm?: (question: string) => Promise<boolean>;
  yes?: boolean;
}

export interface DeprovisionOutcome {
  dir: string;
  group: string;
  changes: string[];
  commit: string | null;
  durationMs: number;
}

export async function deprovision(req: DeprovisionRequest): Promise<DeprovisionOutcome> {
  const started = Date.now();
  const { dir, config } = await loadClusterConfig(req.dir);
  const inventory = await maybeReadInventory(dir).catch(() => undefined);
  const hosts = hostSpecs(config);
  if (!req.yes) {
    const names = (inventory?.hosts ?? hosts).map((h) => h.name);
    const question = `destroy the ${config.platform} machines of group ${config.name} (${names.join(', ')}) and everything on them?`;
    await requireConfirmation(req, 'deprovision destroys machines', question);
  }
  const platform = getPlatform(config.platform);
  const result = await platform.deprovision({ dir, config, hosts, authorizedKeys: [], events: req.events });
  const changes = [...result.changes];
  for (const f of [INVENTORY_FILE, KNOWN_HOSTS_FILE]) {
    const path = join(dir, f);
    const had = await rm(path).then(
      () => true,
      () => false,
    );
    if (had) changes.push(`${f} removed`);
  }
  await removeCachedPrivateKey(dir);
  const commit = await commitDirFiles(
    dir,
    [INVENTORY_FILE, KNOWN_HOSTS_FILE],
    `deprovision: ${config.platform} machines of ${config.name} destroyed` +
      (changes.length ? `\n\n${changes.map((c) => `- ${c}`).join('\n')}` : ''),
  );
  const durationMs = Date.now() - started;
  req.events({
    kind: 'done',
    ok: true,
    summary: changes.length
      ? `deprovisioned group ${config.name}: ${changes.length} changes in ${(durationMs / 1000).toFixed(1)} s`
      : `no changes: group ${config.name} has nothing provisioned`,
  });
  return { dir, group: config.name, changes, commit, durationMs };
}

export interface OrphansRequest {
  events: EventSink;
  confirm?: (question: string) => Promise<boolean>;
  yes?: boolean;
}

export interface OrphansOutcome {
  /** the groups found, and for each what was removed (nothing when not confirmed) */
  orphans: (OrphanGroup & { changes: string[] })[];
  durationMs: number;
}

/**
 * `tpa deprovision --orphans`: the groups this host runs whose cluster directory is gone (lxc;
 * other platforms keep no machines of their own here), listed, then removed once confirmed.
 */
export async function deprovisionOrphans(req: OrphansRequest): Promise<OrphansOutcome> {
  const started = Date.now();
  const orphans = getPlatform('lxc').orphans!;
  const found = await orphans.find(req.events);
  for (const o of found)
    req.events({
      kind: 'info',
      message: `orphan ${o.id}: group ${o.group} from ${o.dir}, ${o.machines.length} machine(s) (${o.machines.join(', ') || 'none'}): ${o.why}`,
    });
  if (found.length === 0) {
    req.events({ kind: 'done', ok: true, summary: 'no changes: no orphaned groups on this host' });
    return { orphans: [], durationMs: Date.now() - started };
  }
  if (!req.yes) {
    const question = `destroy ${found.length} orphaned group(s) (${found.map((o) => o.id).join(', ')}) and everything on their machines?`;
    if (!req.confirm)
      throw new UsageError(
        `${found.length} orphaned group(s) found (${found.map((o) => `${o.id}: ${o.group}`).join(', ')}); removing them needs a confirmation`,
        'pass --yes to remove them',
      );
    if (!(await req.confirm(question)))
      throw new UsageError('not confirmed: nothing was changed', 'pass --yes to skip the question');
  }
  const out: OrphansOutcome['orphans'] = [];
  for (const o of found) out.push({ ...o, changes: await orphans.remove(o, req.events) });
  const durationMs = Date.now() - started;
  req.events({
    kind: 'done',
    ok: true,
    summary: `removed ${out.filter((o) => o.changes.length > 0).length} orphaned group(s) in ${(durationMs / 1000).toFixed(1)} s`,
  });
  return { orphans: out, durationMs };
}
