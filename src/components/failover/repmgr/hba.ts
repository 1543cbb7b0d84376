/** pg_hba.conf rules repmgr needs (postgres/hba.ts places them among the infrastructure rules). */
import { REPMGR_DATABASE, REPMGR_ROLE } from './names.ts';
import type { InventoryHost } from '../../../platforms/platform.ts';
import { hostCidr, type HbaRule } from '../../postgres/hba-rule.ts';

/** repmgr's own database and its replication connections (standby clone), nodes only. */
export function repmgrHbaRules(nodes: InventoryHost[]): HbaRule[] {
  const scram = 'scram-sha-256' as const;
  return [
    { type: 'local', database: REPMGR_DATABASE, user: REPMGR_ROLE, method: scram, comment: 'repmgr' },
    { type: 'local', database: 'replication', user: REPMGR_ROLE, method: scram },
    ...nodes.flatMap((n): HbaRule[] => [
      {
        type: 'hostssl',
        database: REPMGR_DATABASE,
        user: REPMGR_ROLE,
        address: hostCidr(n.address),
        method: scram,
      },
      {
        type: 'hostssl',
        database: 'replication',
        user: REPMGR_ROLE,
        address: hostCidr(n.address),
        method: scram,
      },
    ]),
  ];
}
