/** Names: every cluster, node and service name is a host name, and no two are the same. */
import type { ClusterGroupConfig } from '../schema.ts';
import { isValidLabel, labelProblem, suggestLabel } from '../hostname.ts';
import { allHosts, error, type IssuePath, type RuleIssue } from './types.ts';

function checkLabel(path: IssuePath, what: string, name: string): RuleIssue[] {
  if (isValidLabel(name)) return [];
  return [
    error(
      path,
      `${what} "${name}" ${labelProblem(name)}`,
      `names are lowercase RFC 1123 host names, e.g. "${suggestLabel(name)}"`,
    ),
  ];
}

export function validGroupName(config: ClusterGroupConfig): RuleIssue[] {
  return checkLabel(['name'], 'group name', config.name);
}

export function validHostNames(config: ClusterGroupConfig): RuleIssue[] {
  return [
    ...config.clusters.flatMap((c, ci) => checkLabel(['clusters', ci, 'name'], 'cluster name', c.name)),
    ...allHosts(config).flatMap(({ host, path }) =>
      checkLabel([...path, 'name'], path[0] === 'services' ? 'service name' : 'node name', host.name),
    ),
  ];
}

/** Clusters, nodes and services share one namespace: they appear side by side in status, logs and DNS. */
export function uniqueNames(config: ClusterGroupConfig): RuleIssue[] {
  const entries: { name: string; path: IssuePath; what: string }[] = [
    ...config.clusters.map((c, ci) => ({ name: c.name, path: ['clusters', ci, 'name'], what: 'cluster' })),
    ...allHosts(config).map(({ host, path }) => ({
      name: host.name,
      path: [...path, 'name'],
      what: path[0] === 'services' ? 'service' : 'node',
    })),
  ];
  const first = new Map<string, { path: IssuePath; what: string }>();
  const issues: RuleIssue[] = [];
  for (const e of entries) {
    const seen = first.get(e.name);
    if (seen === undefined) {
      first.set(e.name, e);
      continue;
    }
    issues.push(
      error(
        e.path,
        `name "${e.name}" is already used by a ${seen.what} (${seen.path.join('.')})`,
        'cluster, node and service names must be unique in the group',
      ),
    );
  }
  return issues;
}
