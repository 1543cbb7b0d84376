/** Every semantic rule, run in this order over a schema-valid config. */
import type { ClusterGroupConfig } from '../schema.ts';
import { clientAuthMethod, sshAuthorizedKeys } from './access.ts';
import { highAvailability, syncDurability } from './advice.ts';
import { backupRetention, backupSchedule, backupServers } from './backup.ts';
import { knownInstanceTypes } from './machines.ts';
import { uniqueNames, validGroupName, validHostNames } from './names.ts';
import { awsSection, clientCidrs, hostAddresses, lxcSubnet } from './network.ts';
import {
  fencingStandbys,
  packageVersions,
  postgresVersionAvailable,
  supportedFailoverManager,
} from './postgres.ts';
import { postgresSettings } from './pg-settings.ts';
import { onePrimaryPerCluster, uniqueNodeIds, upstreamsResolve } from './topology.ts';
import type { Rule, RuleIssue } from './types.ts';

export type { Rule, RuleIssue, IssuePath } from './types.ts';
export { dotPath } from './types.ts';

export const RULES: readonly Rule[] = [
  validGroupName,
  validHostNames,
  uniqueNames,
  onePrimaryPerCluster,
  upstreamsResolve,
  uniqueNodeIds,
  postgresVersionAvailable,
  packageVersions,
  supportedFailoverManager,
  fencingStandbys,
  postgresSettings,
  knownInstanceTypes,
  hostAddresses,
  lxcSubnet,
  awsSection,
  clientCidrs,
  sshAuthorizedKeys,
  clientAuthMethod,
  backupSchedule,
  backupRetention,
  backupServers,
  highAvailability,
  syncDurability,
];

export function checkRules(config: ClusterGroupConfig): RuleIssue[] {
  return RULES.flatMap((rule) => rule(config));
}
