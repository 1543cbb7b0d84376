/** The `tpa test` checks repmgr answers for: repmgrd is running, and its view of the cluster is right. */
import { expectedUpstream, perNode, serviceCheck, type Check } from '../../../checks/kit.ts';
import { REPMGRD_UNIT } from './conf.ts';

export const repmgrdRunning = serviceCheck('repmgrd-running', 'repmgrd running', () => REPMGRD_UNIT);

export const repmgrClusterShow = perNode(
  'repmgr-cluster-show',
  'repmgr cluster show agrees',
  (view, node) => {
    const r = view.obs(node)?.repmgr;
    if (!r) return ['skip', 'not asked'];
    if (!r.ok) return ['fail', r.error || 'repmgr cluster show failed'];
    if (!view.primary) return ['skip', 'no single primary to compare with'];
    const problems: string[] = [];
    const byName = new Map(r.table.map((row) => [row.name, row]));
    for (const n of view.nodes) {
      const row = byName.get(n.name);
      if (!row) {
        problems.push(`${n.name} not registered`);
        continue;
      }
      const role = n.name === view.primary ? 'primary' : 'standby';
      if (row.role !== role) problems.push(`${n.name} is a ${row.role}, expected ${role}`);
      const up = role === 'primary' ? '' : (expectedUpstream(view, n.name) ?? '');
      if (row.upstream !== up)
        problems.push(`${n.name} upstream ${row.upstream || '(none)'}, expected ${up || '(none)'}`);
      // `? unreachable` from here, `! running as primary` in another role than recorded, `- failed`
      if (/^[!?-]/.test(row.status) || !/running/.test(row.status)) problems.push(`${n.name} ${row.status}`);
    }
    const extra = r.table
      .filter((row) => !view.nodes.some((n) => n.name === row.name))
      .map((row) => row.name);
    if (extra.length) problems.push(`unknown nodes registered: ${extra.join(', ')}`);
    return problems.length
      ? ['fail', problems.join('; ')]
      : ['pass', `${r.table.length} nodes, roles and upstreams as expected`];
  },
);

/** in report order */
export const REPMGR_CHECKS: Check[] = [repmgrdRunning, repmgrClusterShow];
