/**
 * What `tpa upgrade` will do, decided before anything changes (pure): the version to go to,
 * which nodes still need it, in which order, whether the primary is switched over first, and
 * the pin config.yml gets. Refused (UsageError, exit 2) when a node is down or not streaming,
 * when the mirror does not carry the version, when it would be a downgrade, and when a primary
 * that needs it has no standby to hand over to (unless --no-switchover).
 */
import { UsageError } from '../../core/errors.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';
import type { StatusReport } from '../status/index.ts';
import { pinnedVersion } from '../../components/postgres/packages.ts';
import { compareVersions, upstreamVersion } from '../../plan/debian-version.ts';

export interface UpgradeRequest {
  /** only this cluster (default: every cluster of the group) */
  cluster?: string;
  /** a whole Debian version (15.20-0+deb12u1) or a PostgreSQL release (15.20); default: the newest */
  to?: string;
  /** restart a primary in place (clients wait) instead of switching over first */
  noSwitchover?: boolean;
}

/** what a node answered: the server packages installed, the versions its apt offers */
export interface NodePackages {
  node: string;
  /** package -> installed version */
  installed: Record<string, string>;
  /** versions of the server package its apt offers, newest first */
  offered: string[];
}

export interface ClusterUpgrade {
  name: string;
  primary: string;
  /** standbys that need the new version, in the order they get it (deepest cascade first) */
  standbys: string[];
  /** the primary needs it too */
  primaryNeeds: boolean;
  /** the primary hands over to a standby first (then gets it as a standby) */
  switchover: boolean;
  /** nodes already at the version */
  done: string[];
}

export interface UpgradePlan {
  /** the Debian version every node ends at */
  target: string;
  /** node -> its server package version now */
  before: Record<string, string>;
  clusters: ClusterUpgrade[];
  /** the pin config.yml gets: the group's, or one cluster's */
  pin: { scope: 'group' } | { scope: 'cluster'; cluster: string };
  /** config.yml already says `target` where it matters */
  pinned: boolean;
}

function resolveTarget(to: string | undefined, nodes: NodePackages[]): string {
  const first = nodes[0]!;
  const everywhere = first.offered.filter((v) => nodes.every((n) => n.offered.includes(v)));
  const offeredBy = (n: NodePackages) => `${n.node}'s mirror offers ${n.offered.join(', ') || 'none'}`;
  if (to === undefined) {
    const newest = everywhere[0];
    if (!newest)
      throw new UsageError(
        `the nodes' package mirrors offer no common PostgreSQL version (${nodes.map(offeredBy).join('; ')})`,
      );
    return newest;
  }
  const exact = everywhere.find((v) => v === to);
  if (exact) return exact;
  const sameRelease = everywhere.find((v) => upstreamVersion(v) === to);
  if (sameRelease) return sameRelease;
  const missing = nodes.find((n) => !n.offered.some((v) => v === to || upstreamVersion(v) === to)) ?? first;
  throw new UsageError(
    `PostgreSQL ${to} is not in the package mirror of ${missing.node}: it offers ${missing.offered.join(', ') || 'no version'}`,
    'pick one of those with --to, or leave --to out for the newest',
  );
}

export function planUpgrade(
  config: ClusterGroupConfig,
  status: StatusReport,
  packages: NodePackages[],
  serverPackage: string,
  req: UpgradeRequest,
): UpgradePlan {
  const clusters =
    req.cluster === undefined ? config.clusters : config.clusters.filter((c) => c.name === req.cluster);
  if (clusters.length === 0)
    throw new UsageError(
      `no cluster ${req.cluster} in this group`,
      `its clusters: ${config.clusters.map((c) => c.name).join(', ')}`,
    );
  // every node runs, one primary, every standby streams: a rolling upgrade needs them all
  for (const c of clusters) {
    for (const n of c.nodes) {
      const row = status.nodes.find((r) => r.node === n.name);
      if (!row || row.state !== 'running')
        throw new UsageError(
          `${n.name} is ${row?.state ?? 'unknown'}${row?.detail ? ` (${row.detail})` : ''}: a rolling upgrade needs every node of cluster ${c.name} running`,
          `start it (tpa status shows why it is down), or take it out with tpa remove-node DIR ${n.name}`,
        );
      if (row.role === 'replica' && row.receiver !== 'streaming')
        throw new UsageError(
          `${n.name} does not stream (${row.receiver ?? 'no WAL receiver'})`,
          `tpa rejoin DIR ${n.name} brings it back; then upgrade`,
        );
    }
    if (!status.primaries[c.name])
      throw new UsageError(
        `cluster ${c.name} has no single running primary now`,
        'tpa status shows each node',
      );
  }
  const names = clusters.flatMap((c) => c.nodes.map((n) => n.name));
  const answered = names.map((name) => {
    const p = packages.find((x) => x.node === name);
    if (!p) throw new UsageError(`${name} did not say which versions it has`, 'tpa ping DIR');
    return p;
  });
  const target = resolveTarget(req.to, answered);
  const before: Record<string, string> = {};
  for (const p of answered) {
    const have = p.installed[serverPackage];
    if (have === undefined)
      throw new UsageError(`${p.node} has no ${serverPackage} installed`, 'tpa deploy DIR');
    before[p.node] = have;
    if (compareVersions(have, target) > 0)
      throw new UsageError(
        `${p.node} runs ${serverPackage} ${have}, newer than ${target}: tpa upgrade does not downgrade`,
        `leave --to out for the newest the mirror has, or pick one at or above ${have}`,
      );
  }
  const release = upstreamVersion(target);
  const needs = (node: string) => {
    const p = answered.find((x) => x.node === node)!;
    const running = status.nodes.find((r) => r.node === node)?.version;
    return Object.values(p.installed).some((v) => v !== target) || running !== release;
  };

  const plans: ClusterUpgrade[] = clusters.map((c) => {
    const primary = status.primaries[c.name]!;
    const rows = status.nodes.filter((r) => r.cluster === c.name);
    // deepest first: a standby restarts while the nodes that stream from it are done already
    const depth = (node: string, seen = 0): number => {
      const up = rows.find((r) => r.node === node)?.upstream;
      return up === undefined || up === primary || seen > rows.length ? 1 : 1 + depth(up, seen + 1);
    };
    const standbys = rows
      .filter((r) => r.node !== primary && needs(r.node))
      .map((r) => r.node)
      .sort((a, b) => depth(b) - depth(a) || a.localeCompare(b));
    const primaryNeeds = needs(primary);
    const direct = rows.filter(
      (r) => r.node !== primary && r.upstream === primary && r.receiver === 'streaming',
    );
    if (primaryNeeds && !req.noSwitchover && direct.length === 0)
      throw new UsageError(
        `cluster ${c.name} has no standby to hand its primary ${primary} over to`,
        'run with --no-switchover to upgrade the primary in place (clients wait while it restarts)',
      );
    return {
      name: c.name,
      primary,
      standbys,
      primaryNeeds,
      switchover: primaryNeeds && !req.noSwitchover,
      done: c.nodes.map((n) => n.name).filter((n) => !needs(n)),
    };
  });
  const pin: UpgradePlan['pin'] =
    req.cluster === undefined ? { scope: 'group' } : { scope: 'cluster', cluster: req.cluster };
  const pinned =
    clusters.every((c) => pinnedVersion(config, c) === target) &&
    (pin.scope === 'cluster' || config.postgres.package_version === target);
  return { target, before, clusters: plans, pin, pinned };
}
