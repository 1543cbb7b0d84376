/**
 * Recording a failover the failover manager made: the promoted node becomes the cluster's
 * primary in config.yml (comments kept) and in inventory.json, in one commit
 * ("failover: main-1 -> main-2"). Validated like every edit before anything is written.
 */
import type { EventSink } from '../../core/events.ts';
import type { Adoption } from '../../plan/adopt.ts';
import { swapPrimary } from '../../clusterdir/config-edits.ts';
import { validateEdit } from '../../clusterdir/edit-config.ts';
import { CONFIG_FILE, readConfigText, writeClusterFile } from '../../clusterdir/dir.ts';
import { INVENTORY_FILE, readInventory, writeInventory } from '../../clusterdir/inventory.ts';
import { commitDirFiles } from '../../clusterdir/commit-files.ts';

export const adoptionMessage = (adoptions: Adoption[]) =>
  `failover: ${adoptions.map((a) => `${a.from} -> ${a.to}${adoptions.length > 1 ? ` (${a.cluster})` : ''}`).join(', ')}`;

export async function recordFailovers(
  dir: string,
  adoptions: Adoption[],
  events: EventSink,
): Promise<string | null> {
  const { dir: abs, text } = await readConfigText(dir);
  let after = text;
  for (const a of adoptions) after = swapPrimary(after, a.cluster, a.to);
  const message = adoptionMessage(adoptions);
  const config = validateEdit(after, message);
  const inv = await readInventory(abs);
  for (const h of inv.hosts) {
    const cluster = config.clusters.find((c) => c.name === h.cluster);
    const node = cluster?.nodes.find((n) => n.name === h.name);
    if (!node) continue;
    h.role = node.role;
    if (node.upstream !== undefined) h.upstream = node.upstream;
    else delete h.upstream;
  }
  await writeClusterFile(abs, CONFIG_FILE, after);
  await writeInventory(abs, inv);
  const commit = await commitDirFiles(abs, [CONFIG_FILE, INVENTORY_FILE], message);
  for (const a of adoptions)
    events({
      kind: 'info',
      message:
        `${a.to} is the primary of cluster ${a.cluster} now (the failover manager promoted it): config.yml and inventory.json say so${commit ? ` (commit ${commit.slice(0, 7)})` : ''}` +
        (a.fromIsStandby ? '' : `; ${a.from} comes back as a standby with tpa rejoin DIR ${a.from}`),
    });
  return commit;
}
