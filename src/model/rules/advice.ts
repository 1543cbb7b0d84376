/** Valid but risky choices: reported as warnings, never refused. */
import type { ClusterGroupConfig } from '../schema.ts';
import { warning, type RuleIssue } from './types.ts';

export function highAvailability(config: ClusterGroupConfig): RuleIssue[] {
  return config.clusters.flatMap((c, ci) =>
    c.nodes.length === 1
      ? [
          warning(
            ['clusters', ci, 'nodes'],
            `cluster "${c.name}" has a single node: no high availability, nothing to fail over to`,
            'add a replica for HA',
          ),
        ]
      : [],
  );
}

export function syncDurability(config: ClusterGroupConfig): RuleIssue[] {
  return config.clusters.flatMap((c, ci) => {
    const replicas = c.nodes.filter((n) => n.role === 'replica').length;
    if (c.durability !== 'sync' || replicas >= 2) return [];
    return [
      warning(
        ['clusters', ci, 'durability'],
        replicas === 0
          ? `durability sync in cluster "${c.name}" has no replica to wait for`
          : `durability sync in cluster "${c.name}" with one replica stops writes whenever that replica is down`,
        'use at least 2 replicas with sync',
      ),
    ];
  });
}
