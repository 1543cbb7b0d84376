/** Rule results in a form tests can compare: "error clusters.0.nodes.1.upstream: message". */
import type { ClusterGroupConfig } from '../schema.ts';
import type { Rule } from '../rules/types.ts';

export function found(rule: Rule, config: ClusterGroupConfig): string[] {
  return rule(config).map((i) => `${i.severity} ${i.path.join('.')}: ${i.message}`);
}
