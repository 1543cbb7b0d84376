/**
 * A semantic rule looks at a schema-valid config and returns what is wrong with it (errors)
 * or worth knowing (warnings), each pinned to the field it is about.
 */
import type { ClusterGroupConfig, NodeConfig, ServiceConfig } from '../schema.ts';

export type IssuePath = (string | number)[];

export interface RuleIssue {
  severity: 'error' | 'warning';
  /** where in config.yml, e.g. ['clusters', 0, 'nodes', 1, 'upstream'] */
  path: IssuePath;
  message: string;
  hint?: string;
}

export type Rule = (config: ClusterGroupConfig) => RuleIssue[];

export function error(path: IssuePath, message: string, hint?: string): RuleIssue {
  return { severity: 'error', path, message, ...(hint !== undefined ? { hint } : {}) };
}

export function warning(path: IssuePath, message: string, hint?: string): RuleIssue {
  return { severity: 'warning', path, message, ...(hint !== undefined ? { hint } : {}) };
}

/** `a.b.0.c` — the form issues are shown in. */
export function dotPath(path: IssuePath): string {
  return path.join('.');
}

/** Every postgres node with where it sits in the config. */
export function allNodes(config: ClusterGroupConfig) {
  return config.clusters.flatMap((cluster, ci) =>
    cluster.nodes.map((node, ni) => ({ cluster, node, path: ['clusters', ci, 'nodes', ni] as IssuePath })),
  );
}

/** Every postgres node and service (every machine) with its path. */
export function allHosts(
  config: ClusterGroupConfig,
): { host: NodeConfig | ServiceConfig; path: IssuePath }[] {
  return [
    ...allNodes(config).map(({ node, path }) => ({ host: node, path })),
    ...config.services.map((svc, si) => ({ host: svc, path: ['services', si] })),
  ];
}
