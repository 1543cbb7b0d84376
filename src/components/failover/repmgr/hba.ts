/** pg_hba.conf rules repmgr needs (postgres/hba.ts places them among the infrastructure rules). */
import type { InventoryHost } from '../../../platforms/platform.ts';
import { hostCidr, type HbaRule } from '../../postgres/hba-rule.ts';
import { REPMGR_DATABASE, ROLES } from '../../postgres/paths.ts';

/** repmgr's own database and its replication connections (standby clone), nodes only. */
export function repmgrHbaRules(nodes: InventoryHost[]): HbaRule[] {
  const scram = 'scram-sha-256' as const;
  return [
    { type: 'local', database: REPMGR_DATABASE, user: ROLES.repmgr, method: scram, comment: 'repmgr' },
    { type: 'local', database: 'replication', user: ROLES.repmgr, method: scram },
    ...nodes.flatMap((n): HbaRule[] => [
      {
        type: 'hostssl',
        database: REPMGR_DATABASE,
        user: ROLES.repmgr,
        address: hostCidr(n.address),
        method: scram,
      },
      {
        type: 'hostssl',
        database: 'replication',
        user: ROLES.repmgr,
        address: hostCidr(n.address),
        method: scram,
      },
    ]),
  ];
}
