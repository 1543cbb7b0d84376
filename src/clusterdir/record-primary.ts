/**
 * Recording which node is a cluster's primary after it moved (a failover deploy adopts, a
 * switchover): the node becomes the primary in config.yml (comments kept, config-edits.ts)
 * and in inventory.json, validated like every edit, written and committed together.
 */
import { swapPrimary } from './config-edits.ts';
import { validateEdit } from './edit-config.ts';
import { CONFIG_FILE, readConfigText, writeClusterFile } from './dir.ts';
import { INVENTORY_FILE, readInventory, writeInventory } from './inventory.ts';
import { commitDirFiles } from './commit-files.ts';

export interface PrimaryMove {
  cluster: string;
  from: string;
  to: string;
}

/** the commit, or null when config.yml already said so */
export async function recordPrimaries(
  dir: string,
  moves: PrimaryMove[],
  message: string,
): Promise<string | null> {
  const { dir: abs, text } = await readConfigText(dir);
  let after = text;
  for (const m of moves) after = swapPrimary(after, m.cluster, m.to);
  if (after === text) return null;
  const config = validateEdit(after, message);
  const inv = await readInventory(abs);
  for (const h of inv.hosts) {
    const node = config.clusters.find((c) => c.name === h.cluster)?.nodes.find((n) => n.name === h.name);
    if (!node) continue;
    h.role = node.role;
    if (node.upstream !== undefined) h.upstream = node.upstream;
    else delete h.upstream;
  }
  await writeClusterFile(abs, CONFIG_FILE, after);
  await writeInventory(abs, inv);
  return commitDirFiles(abs, [CONFIG_FILE, INVENTORY_FILE], message);
}
