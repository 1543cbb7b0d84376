/** Deploy's record of a failover the failover manager made ("failover: main-1 -> main-2"). */
import type { EventSink } from '../../core/events.ts';
import type { Adoption } from '../../plan/adopt.ts';
import { recordPrimaries } from '../../clusterdir/record-primary.ts';

export const adoptionMessage = (adoptions: Adoption[]) =>
  `failover: ${adoptions.map((a) => `${a.from} -> ${a.to}${adoptions.length > 1 ? ` (${a.cluster})` : ''}`).join(', ')}`;

export async function recordFailovers(
  dir: string,
  adoptions: Adoption[],
  events: EventSink,
): Promise<string | null> {
  const commit = await recordPrimaries(dir, adoptions, adoptionMessage(adoptions));
  for (const a of adoptions)
    events({
      kind: 'info',
      message:
        `${a.to} is the primary of cluster ${a.cluster} now (the failover manager promoted it): config.yml and inventory.json say so${commit ? ` (commit ${commit.slice(0, 7)})` : ''}` +
        (a.fromIsStandby ? '' : `; ${a.from} comes back as a standby with tpa rejoin DIR ${a.from}`),
    });
  return commit;
}
