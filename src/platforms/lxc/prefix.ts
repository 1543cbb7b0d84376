/** Finding a group's prefix: recorded in inventory.json by the first provision, else derived. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory, PlatformContext } from '../platform.ts';
import { groupPrefix, isGroupPrefix } from './names.ts';

export const INVENTORY_FILE = 'inventory.json';
export const KNOWN_HOSTS_FILE = 'known_hosts';

/** The inventory a previous provision wrote, if any (its prefix and addresses are kept). */
export async function previousInventory(dir: string): Promise<Inventory | undefined> {
  const text = await readFile(join(dir, INVENTORY_FILE), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Inventory;
  } catch {
    return undefined;
  }
}

/** The group's prefix: the one recorded in inventory.json, else derived from group name and directory. */
export async function resolvePrefix(ctx: Pick<PlatformContext, 'dir' | 'config'>): Promise<string> {
  const inv = await previousInventory(ctx.dir);
  const recorded = inv?.platform === 'lxc' ? inv.network?.prefix : undefined;
  return recorded && isGroupPrefix(recorded) ? recorded : groupPrefix(ctx.config.name, ctx.dir);
}
