/** What runs on the nodes: a PostgreSQL version the platform's distribution ships, and a failover manager tpa drives (none: a single node). */
import type { ClusterGroupConfig } from '../schema.ts';
import { DISTRIBUTION_LABEL, PLATFORM_DISTRIBUTION, postgresVersionsFor } from '../distributions.ts';
import { error, type RuleIssue } from './types.ts';

export function postgresVersionAvailable(config: ClusterGroupConfig): RuleIssue[] {
  const offered = postgresVersionsFor(config.platform);
  const version = config.postgres.version;
  if (offered.includes(version)) return [];
  const distro = DISTRIBUTION_LABEL[PLATFORM_DISTRIBUTION[config.platform]];
  return [
    error(
      ['postgres', 'version'],
      `PostgreSQL ${version} is not offered by ${distro}, the system of platform ${config.platform}`,
      `use ${offered.join(' or ')}`,
    ),
  ];
}

/**
 * A pinned package version is a whole Debian version of the group's major version: apt installs
 * exactly that string, and a pin of another major would install a second server beside the first.
 */
export function packageVersions(config: ClusterGroupConfig): RuleIssue[] {
  const major = config.postgres.version;
  const check = (value: string | undefined, path: (string | number)[]): RuleIssue[] => {
    if (value === undefined) return [];
    if (!/^\d+(\.\d+)*(-[0-9A-Za-z.+~]+)?$/.test(value) || !value.includes('-'))
      return [
        error(
          path,
          `"${value}" is not a whole Debian package version`,
          `write it as apt lists it, e.g. ${major}.20-0+deb12u1 (apt-cache policy postgresql-${major})`,
        ),
      ];
    if (!value.startsWith(`${major}.`))
      return [
        error(
          path,
          `${value} is not a version of PostgreSQL ${major} (postgres.version)`,
          `pin a ${major}.x package; a new major version is a major upgrade, which tpa upgrade does not do`,
        ),
      ];
    return [];
  };
  return [
    ...check(config.postgres.package_version, ['postgres', 'package_version']),
    ...config.clusters.flatMap((c, ci) =>
      check(c.postgres_package_version, ['clusters', ci, 'postgres_package_version']),
    ),
  ];
}

export function supportedFailoverManager(config: ClusterGroupConfig): RuleIssue[] {
  return config.clusters.flatMap((c, ci) => {
    if (c.failover_manager === 'patroni')
      return [
        error(
          ['clusters', ci, 'failover_manager'],
          'patroni is not implemented by tpa yet',
          'use failover_manager: repmgr',
        ),
      ];
    // replicas are cloned and kept following by the failover manager
    if (c.failover_manager === 'none' && c.nodes.length > 1)
      return [
        error(
          ['clusters', ci, 'failover_manager'],
          `cluster "${c.name}" has replicas: failover_manager none is for a single-node cluster`,
          'use failover_manager: repmgr',
        ),
      ];
    return [];
  });
}

/**
 * failover.min_standbys counts the standbys streaming from the primary itself (cascaded ones
 * stream from a replica): more than there are would fence a healthy primary.
 */
export function fencingStandbys(config: ClusterGroupConfig): RuleIssue[] {
  return config.clusters.flatMap((c, ci) => {
    const min = c.failover?.min_standbys;
    if (c.failover !== undefined && c.failover_manager === 'none')
      return [
        error(
          ['clusters', ci, 'failover'],
          `cluster "${c.name}" has no failover manager: nothing fails over or fences`,
          'remove failover, or use failover_manager: repmgr',
        ),
      ];
    if (min === undefined || min === 0) return [];
    const primary = c.nodes.find((n) => n.role === 'primary')?.name;
    const direct = c.nodes.filter(
      (n) => n.role === 'replica' && (n.upstream === undefined || n.upstream === primary),
    ).length;
    if (min <= direct) return [];
    return [
      error(
        ['clusters', ci, 'failover', 'min_standbys'],
        `cluster "${c.name}" has ${direct} standby${direct === 1 ? '' : 's'} streaming from its primary: with fewer than ${min} connected the primary would fence itself`,
        `use at most ${direct} (0 never fences)`,
      ),
    ];
  });
}
