/** Machine sizes: every instance type named must exist on the group's platform. */
import type { ClusterGroupConfig } from '../schema.ts';
import { INSTANCE_TYPES } from '../instance-types.ts';
import { allHosts, error, type IssuePath, type RuleIssue } from './types.ts';

export function knownInstanceTypes(config: ClusterGroupConfig): RuleIssue[] {
  const known = INSTANCE_TYPES[config.platform];
  const check = (path: IssuePath, type: string | undefined): RuleIssue[] =>
    type === undefined || Object.hasOwn(known, type)
      ? []
      : [
          error(
            path,
            `instance type "${type}" is not known on platform ${config.platform}`,
            `known: ${Object.keys(known).join(', ')}`,
          ),
        ];
  return [
    ...check(['defaults', 'instance_type'], config.defaults.instance_type),
    ...allHosts(config).flatMap(({ host, path }) => check([...path, 'instance_type'], host.instance_type)),
  ];
}
