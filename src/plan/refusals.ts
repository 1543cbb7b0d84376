/**
 * Changes deploy refuses to make. Deploy converges configuration; it never changes which
 * node is the primary, never lets replication form a loop, and never runs a command that
 * drops, promotes or wipes. A refusal stops the whole deploy before anything is applied.
 */
import type { DesiredHost, HostFacts } from './types.ts';
import { compareVersions } from './debian-version.ts';

export interface Refusal {
  host?: string;
  message: string;
}

export function refusals(desired: DesiredHost[], facts: Record<string, HostFacts>): Refusal[] {
  return [
    ...unreachable(desired, facts),
    ...roleChanges(desired, facts),
    ...upstreamProblems(desired, facts),
    ...destructiveActions(desired),
    ...serverVersionChanges(desired, facts),
  ];
}

function unreachable(desired: DesiredHost[], facts: Record<string, HostFacts>): Refusal[] {
  return desired
    .filter((d) => facts[d.host]?.reachable === false)
    .map((d) => ({
      host: d.host,
      message: `${d.host} is unreachable${facts[d.host]?.unreachableReason ? `: ${facts[d.host]?.unreachableReason}` : ''}`,
    }));
}

/** roles reach the hosts' plans through inventory.json, which provision writes */
const RECORD = ', then run tpa provision (it records the roles) and deploy again';

function roleChanges(desired: DesiredHost[], facts: Record<string, HostFacts>): Refusal[] {
  const out: Refusal[] = [];
  for (const d of desired) {
    const pg = facts[d.host]?.postgres;
    if (!pg) continue;
    if (d.role === 'primary' && pg.inRecovery) {
      const running = desired.filter(
        (x) =>
          x.cluster === d.cluster &&
          x.host !== d.host &&
          facts[x.host]?.postgres?.inRecovery === false &&
          facts[x.host]?.postgres?.systemIdentifier === pg.systemIdentifier,
      );
      const swap =
        running.length === 1
          ? `: swap the two nodes' roles, \`role: primary\` for ${running[0]!.host} and \`role: replica\` for ${d.host}`
          : '';
      out.push({
        host: d.host,
        message:
          `${d.host} is configured as the primary but runs as a replica (in recovery); ` +
          `deploy never promotes a node. If a failover happened, make config.yml say so${swap}${swap ? RECORD : ''} ` +
          '(tpa status shows the running roles), or use tpa switchover',
      });
    }
    if (d.role === 'replica' && !pg.inRecovery) {
      const primary = desired.find((p) => p.role === 'primary' && p.cluster === d.cluster);
      const primaryPg = primary ? facts[primary.host]?.postgres : undefined;
      // A replica not cloned yet runs the empty cluster Debian created at install time: a
      // different system identifier from its primary's. Same identifier (or no primary to
      // compare with) means it was promoted.
      const sameSystem = primaryPg?.systemIdentifier && primaryPg.systemIdentifier === pg.systemIdentifier;
      if (sameSystem || !primaryPg) {
        const swap = primary
          ? `: swap the two nodes' roles, \`role: primary\` for ${d.host}` +
            `${d.upstream !== undefined ? ` (without its \`upstream\`)` : ''} and \`role: replica\` for ${primary.host}`
          : `: give ${d.host} \`role: primary\` in config.yml`;
        const rejoin =
          primary && !primaryPg
            ? `; ${primary.host} comes back only as a standby: rejoin it (repmgr node rejoin; tpa status shows the command once it is fenced)`
            : '';
        out.push({
          host: d.host,
          message:
            `${d.host} is configured as a replica but runs as a primary` +
            (primary && !primaryPg ? ` while ${primary.host} (the configured primary) is not running` : '') +
            `; deploy never demotes a node. If a failover happened, make config.yml say so${swap}${RECORD} ` +
            `(tpa status shows the running roles)${rejoin}`,
        });
      }
    }
  }
  return out;
}

function upstreamProblems(desired: DesiredHost[], facts: Record<string, HostFacts>): Refusal[] {
  const out: Refusal[] = [];
  const byName = new Map(desired.map((d) => [d.host, d]));
  for (const d of desired) {
    if (d.upstream === undefined) continue;
    if (!byName.has(d.upstream))
      out.push({ host: d.host, message: `upstream ${d.upstream} of ${d.host} is not a node` });
  }
  // a loop in the configured upstreams
  const reported = new Set<string>();
  for (const d of desired) {
    const path: string[] = [];
    let cur: DesiredHost | undefined = d;
    while (cur?.upstream !== undefined && !path.includes(cur.host)) {
      path.push(cur.host);
      cur = byName.get(cur.upstream);
    }
    if (cur && path.includes(cur.host)) {
      const loop = path.slice(path.indexOf(cur.host));
      const key = [...loop].sort().join(',');
      if (!reported.has(key)) {
        reported.add(key);
        out.push({
          host: cur.host,
          message: `replication would form a loop: ${[...loop, cur.host].join(' -> ')}; one of them must follow the primary`,
        });
      }
    }
  }
  // moving N under U while U streams from N: a loop for as long as the change takes
  const nameOf = new Map<string, string>();
  for (const d of desired) if (d.address) nameOf.set(d.address, d.host);
  for (const d of desired) {
    if (d.upstream === undefined) continue;
    const upstreamOfUpstream = facts[d.upstream]?.postgres?.upstream;
    const follows = upstreamOfUpstream ? (nameOf.get(upstreamOfUpstream) ?? upstreamOfUpstream) : undefined;
    if (follows === d.host) {
      out.push({
        host: d.host,
        message:
          `${d.host} is to follow ${d.upstream}, which streams from ${d.host} now: that change forms a loop; ` +
          `first point ${d.upstream} at another node, deploy, then change ${d.host}`,
      });
    }
  }
  return out;
}

/** deploy's actions converge; these words belong to other commands (switchover, remove-node) */
const DESTRUCTIVE: { pattern: RegExp; what: string }[] = [
  { pattern: /\bpg_dropcluster\b/, what: 'drops a cluster' },
  { pattern: /\bdropdb\b|\bdropuser\b/, what: 'drops a database or role' },
  { pattern: /\bDROP\s+(DATABASE|ROLE|USER|TABLE|SCHEMA)\b/i, what: 'drops a database object' },
  { pattern: /\bpromote\b|\bpg_promote\b/i, what: 'promotes a node' },
  { pattern: /\brm\s+(-[a-zA-Z]*\s+)*[^|;&]*\/var\/lib\/postgresql\b/, what: 'removes postgres data' },
  { pattern: /\bmkfs(\.\w+)?\b|\bwipefs\b/, what: 'formats a disk' },
];

function destructiveActions(desired: DesiredHost[]): Refusal[] {
  const out: Refusal[] = [];
  for (const d of desired) {
    for (const { resources } of d.phases) {
      for (const r of resources) {
        if (r.kind !== 'action') continue;
        const hit = DESTRUCTIVE.find((x) => x.pattern.test(r.command) || x.pattern.test(r.stdin ?? ''));
        if (hit) {
          out.push({ host: d.host, message: `action ${r.id} ${hit.what}; deploy never does that` });
        }
      }
    }
  }
  return out;
}

/**
 * A new version of the PostgreSQL server's package, installed under a running server, stops it
 * (Debian's maintainer scripts do): on a primary that is an outage, or a failover. A running
 * node changes its minor version only through tpa upgrade, which rolls it one node at a time.
 */
function serverVersionChanges(desired: DesiredHost[], facts: Record<string, HostFacts>): Refusal[] {
  const out: Refusal[] = [];
  for (const d of desired) {
    const f = facts[d.host];
    if (!f?.postgres?.running) continue;
    for (const { resources } of d.phases) {
      for (const r of resources) {
        if (r.kind !== 'package' || r.version === undefined || !/^postgresql-\d+$/.test(r.name)) continue;
        const have = f.packages[r.name];
        if (have === undefined || have === r.version) continue;
        const older = compareVersions(r.version, have) < 0;
        out.push({
          host: d.host,
          message:
            `${d.host} runs ${r.name} ${have} and config.yml pins ${r.version}: installing it would stop the running server; ` +
            (older
              ? `tpa does not downgrade a running server: pin ${have} again`
              : `run tpa upgrade DIR --to ${r.version} (one node at a time, a switchover for the primary)`),
        });
      }
    }
  }
  return out;
}
