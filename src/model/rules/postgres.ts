/** What runs on the nodes: a PostgreSQL version the platform's distribution ships, and a failover manager tpa drives. */
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

export function supportedFailoverManager(config: ClusterGroupConfig): RuleIssue[] {
  return config.clusters.flatMap((c, ci) =>
    c.failover_manager === 'patroni'
      ? [
          error(
            ['clusters', ci, 'failover_manager'],
            'patroni is not implemented by tpa yet',
            'use failover_manager: repmgr',
          ),
        ]
      : [],
  );
}
