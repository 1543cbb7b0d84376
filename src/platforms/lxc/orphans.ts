/**
 * Groups whose cluster directory is gone: their containers keep running, and no `tpa
 * deprovision DIR` can name them any more. A group is found by its prefix on the host's
 * containers, links and nft tables, and by its host record (which names its directory); it is
 * an orphan when that directory no longer holds the group (no config.yml, or an inventory of
 * another prefix), or when nothing on the host says which directory it belonged to.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSink } from '../../core/events.ts';
import type { OrphanGroup } from '../platform.ts';
import { listContainers } from './containers.ts';
import { listGroupRecords, type GroupRecord } from './group-state.ts';
import type { HostShell } from './host.ts';
import { isGroupPrefix, nodeOfContainer, TPA_PREFIX } from './names.ts';
import { previousInventory } from './prefix.ts';
import { linksWithPrefix } from './network.ts';
import { groupNftTables, removeGroupByPrefix } from './teardown.ts';

/** `tpa-xxxxxx` of a container, link or table name, when it is a group's */
function prefixOf(name: string): string | undefined {
  const p = name.slice(0, TPA_PREFIX.length + 6);
  return isGroupPrefix(p) ? p : undefined;
}

/** Why the recorded directory no longer holds the group, or undefined when it does. */
export async function whyOrphaned(
  record: GroupRecord | undefined,
  prefix: string,
): Promise<string | undefined> {
  if (!record) return 'no host record says which cluster directory it belongs to';
  const config = await readFile(join(record.dir, 'config.yml'), 'utf8').catch(() => undefined);
  if (config === undefined) return `its cluster directory ${record.dir} is gone (no config.yml)`;
  const inv = await previousInventory(record.dir);
  if (inv?.platform === 'lxc' && inv.network?.prefix && inv.network.prefix !== prefix)
    return `${record.dir} now holds another group (${inv.network.prefix})`;
  return undefined;
}

export async function findOrphans(sh: HostShell): Promise<OrphanGroup[]> {
  const records = new Map((await listGroupRecords()).map((r) => [r.prefix, r]));
  const containers = await listContainers(sh);
  const links = await linksWithPrefix(sh, TPA_PREFIX);
  const tables = (await groupNftTables(sh, TPA_PREFIX)).map((t) => t.name);
  const prefixes = new Set<string>(records.keys());
  for (const name of [...containers, ...links, ...tables]) {
    const p = prefixOf(name);
    if (p) prefixes.add(p);
  }
  const out: OrphanGroup[] = [];
  for (const prefix of [...prefixes].sort()) {
    const record = records.get(prefix);
    const why = await whyOrphaned(record, prefix);
    if (why === undefined) continue;
    out.push({
      id: prefix,
      group: record?.group ?? '(unknown)',
      dir: record?.dir ?? '(unknown)',
      machines: containers.filter((c) => nodeOfContainer(prefix, c) !== undefined),
      why,
    });
  }
  return out;
}

export async function removeOrphan(sh: HostShell, orphan: OrphanGroup, events: EventSink): Promise<string[]> {
  // checked again right before: a directory restored meanwhile makes it a live group
  const record = (await listGroupRecords()).find((r) => r.prefix === orphan.id);
  if ((await whyOrphaned(record, orphan.id)) === undefined) return [];
  return (await removeGroupByPrefix(sh, orphan.id, events)).changes;
}
