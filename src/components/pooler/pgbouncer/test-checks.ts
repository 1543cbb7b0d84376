/** The `tpa test` check pgbouncer answers for: a write through it lands on the primary. */
import { errorLine, perNode, type Check } from '../../../checks/kit.ts';

export const pgbouncerWrite = perNode(
  'pgbouncer-write',
  'write through pgbouncer lands on the primary',
  (view, node) => {
    const w = view.obs(node)?.client?.write;
    if (!w) return ['skip', 'not tried'];
    if (!w.ok) {
      const to = view.obs(node)?.pgbouncer?.routeHost;
      const route = to ? ` (its route: ${view.nodes.find((n) => n.address === to)?.name ?? to})` : '';
      return ['fail', `${errorLine(w.output) || 'the write failed'}${route}`];
    }
    const landed = view.nodes.find((n) => n.address === w.server)?.name ?? w.server ?? '?';
    if (w.inRecovery) return ['fail', `landed on ${landed}, a server in recovery`];
    if (view.primary && landed !== view.primary)
      return ['fail', `landed on ${landed}, but the primary is ${view.primary}`];
    if (!view.primary) return ['fail', `landed on ${landed}; the cluster has no single primary to compare`];
    return ['pass', `landed on ${landed} (primary)${w.serverTls ? ', TLS to the server too' : ''}`];
  },
);

/** in report order */
export const PGBOUNCER_CHECKS: Check[] = [pgbouncerWrite];
