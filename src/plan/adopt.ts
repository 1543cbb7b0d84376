/**
 * A failover the failover manager made, as deploy finds it: the configured primary is down,
 * unreachable or in recovery, and exactly one other node of its cluster runs as a primary of
 * the same system. Deploy never promotes or demotes, but it adopts such a primary: config.yml
 * says so afterwards (commands/deploy records it and commits). Anything less clear-cut (two
 * running primaries, a promoted node of another system) stays a refusal. Pure.
 */
import type { DesiredHost, HostFacts } from './types.ts';

export interface Adoption {
  cluster: string;
  /** the configured primary */
  from: string;
  /** the node that runs as the primary now */
  to: string;
  /** the former primary already runs as a standby (rejoined) */
  fromIsStandby: boolean;
}

export function adoptableFailovers(desired: DesiredHost[], facts: Record<string, HostFacts>): Adoption[] {
  const out: Adoption[] = [];
  for (const d of desired) {
    if (d.role !== 'primary' || d.cluster === undefined) continue;
    const mine = facts[d.host]?.postgres;
    if (mine && !mine.inRecovery) continue;
    const members = desired.filter((x) => x.cluster === d.cluster && x.role !== 'barman');
    const running = members.filter((x) => facts[x.host]?.postgres !== undefined);
    const primaries = running.filter((x) => facts[x.host]!.postgres!.inRecovery === false);
    if (primaries.length !== 1) continue;
    const to = primaries[0]!;
    const sysid = facts[to.host]!.postgres!.systemIdentifier;
    // every running member belongs to the promoted node's system
    if (!sysid || running.some((x) => facts[x.host]!.postgres!.systemIdentifier !== sysid)) continue;
    out.push({ cluster: d.cluster, from: d.host, to: to.host, fromIsStandby: mine?.inRecovery === true });
  }
  return out;
}
