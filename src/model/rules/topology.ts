/** The shape of each cluster: one primary, replicas that stream from a node of the same cluster. */
import type { ClusterGroupConfig } from '../schema.ts';
import { error, type RuleIssue } from './types.ts';

/** Exactly one primary per cluster, and the primary streams from nobody. */
export function onePrimaryPerCluster(config: ClusterGroupConfig): RuleIssue[] {
  const issues: RuleIssue[] = [];
  config.clusters.forEach((cluster, ci) => {
    const primaries = cluster.nodes.flatMap((n, ni) => (n.role === 'primary' ? [ni] : []));
    if (primaries.length === 0) {
      issues.push(
        error(
          ['clusters', ci, 'nodes'],
          `cluster "${cluster.name}" has no primary`,
          'give one node role: primary',
        ),
      );
    }
    for (const ni of primaries.slice(1)) {
      const first = cluster.nodes[primaries[0]!]!.name;
      issues.push(
        error(
          ['clusters', ci, 'nodes', ni, 'role'],
          `cluster "${cluster.name}" already has a primary (${first}); a cluster has exactly one`,
          'make this node a replica',
        ),
      );
    }
    for (const ni of primaries) {
      if (cluster.nodes[ni]!.upstream !== undefined) {
        issues.push(
          error(
            ['clusters', ci, 'nodes', ni, 'upstream'],
            'a primary has no upstream',
            'remove upstream, or make this node a replica',
          ),
        );
      }
    }
  });
  return issues;
}

/**
 * A replica's upstream names another node of the same cluster, and following upstreams
 * from any replica reaches the primary (no cycle).
 */
export function upstreamsResolve(config: ClusterGroupConfig): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const clusterOf = new Map<string, string>();
  for (const c of config.clusters) for (const n of c.nodes) clusterOf.set(n.name, c.name);

  config.clusters.forEach((cluster, ci) => {
    const byName = new Map(cluster.nodes.map((n) => [n.name, n]));
    const broken = new Set<string>();
    cluster.nodes.forEach((node, ni) => {
      const up = node.upstream;
      if (up === undefined || node.role === 'primary') return;
      const path = ['clusters', ci, 'nodes', ni, 'upstream'];
      if (up === node.name) {
        issues.push(
          error(
            path,
            `node "${node.name}" cannot be its own upstream`,
            'name another node, or remove upstream to follow the primary',
          ),
        );
        broken.add(node.name);
      } else if (!byName.has(up)) {
        const other = clusterOf.get(up);
        issues.push(
          other !== undefined
            ? error(
                path,
                `upstream "${up}" is in cluster "${other}", not "${cluster.name}"`,
                'a replica streams from a node of its own cluster',
              )
            : error(
                path,
                `upstream "${up}" is not a node of cluster "${cluster.name}"`,
                `known nodes: ${[...byName.keys()].join(', ')}`,
              ),
        );
        broken.add(node.name);
      }
    });

    // Walk each replica's chain of upstreams; reporting each cycle once, at its first node in file order.
    const reported = new Set<string>();
    cluster.nodes.forEach((node, ni) => {
      if (node.role === 'primary' || broken.has(node.name)) return;
      const seen: string[] = [];
      let current: string | undefined = node.name;
      while (current !== undefined) {
        const n = byName.get(current);
        if (n === undefined || n.role === 'primary' || broken.has(current)) return;
        if (seen.includes(current)) {
          const cycle = seen.slice(seen.indexOf(current));
          if (cycle[0] === node.name && !cycle.some((c) => reported.has(c))) {
            cycle.forEach((c) => reported.add(c));
            issues.push(
              error(
                ['clusters', ci, 'nodes', ni, 'upstream'],
                `upstreams form a cycle: ${[...cycle, current].join(' -> ')}`,
                'remove the upstream of one node in the chain so it streams from the primary',
              ),
            );
          }
          return;
        }
        seen.push(current);
        current = n.upstream ?? cluster.nodes.find((x) => x.role === 'primary')?.name;
      }
    });
  });
  return issues;
}

/** Node ids (explicit `node_id`, or position plus one) unique within each cluster. */
export function uniqueNodeIds(config: ClusterGroupConfig): RuleIssue[] {
  const issues: RuleIssue[] = [];
  config.clusters.forEach((cluster, ci) => {
    const seen = new Map<number, string>();
    cluster.nodes.forEach((n, ni) => {
      const id = n.node_id ?? ni + 1;
      const other = seen.get(id);
      if (other !== undefined) {
        issues.push(
          error(
            ['clusters', ci, 'nodes', ni, n.node_id !== undefined ? 'node_id' : 'name'],
            `node id ${id} of ${n.name} is ${other}'s too (${n.node_id !== undefined ? 'node_id' : 'its position in nodes'})`,
            'give it a node_id no other node of the cluster has',
          ),
        );
      } else seen.set(id, n.name);
    });
  });
  return issues;
}
