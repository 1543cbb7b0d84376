/** pg_hba.conf rules pgbouncer needs (postgres/hba.ts places them in the file). */
import type { InventoryHost } from '../../../platforms/platform.ts';
import { hostCidr, type HbaRule } from '../../postgres/hba-rule.ts';
import { ROLES } from '../../postgres/paths.ts';

/**
 * pgbouncer runs on each postgres node and reaches postgres over the unix socket. Its
 * auth_user looks users up in every database, so it must work before clients are let in.
 * With `nodes`: pgbouncer on every node forwards to the current primary over TCP + TLS
 * (pgbouncer component), both its auth_user's lookups and the clients' sessions. Clients
 * only reach pgbouncer from phase client-access on, when it starts listening.
 */
export function pgbouncerAuthHbaRules(nodes: InventoryHost[] = []): HbaRule[] {
  return [
    {
      type: 'local',
      database: 'all',
      user: ROLES.pgbouncerAuth,
      method: 'scram-sha-256',
      comment: "pgbouncer's auth_user (auth_query)",
    },
    ...nodes.map((n, i): HbaRule => ({
      type: 'hostssl',
      database: 'all',
      user: 'all',
      address: hostCidr(n.address),
      method: 'scram-sha-256',
      ...(i === 0 ? { comment: 'pgbouncer on the nodes, forwarding to the primary' } : {}),
    })),
  ];
}

/** Client traffic that arrives through pgbouncer (unix socket, the client's own password). */
export function pgbouncerClientHbaRules(): HbaRule[] {
  return [
    {
      type: 'local',
      database: 'all',
      user: 'all',
      method: 'scram-sha-256',
      comment: 'clients through pgbouncer',
    },
  ];
}
