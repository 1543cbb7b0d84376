/** repmgr (repmgrd) as the FailoverManager of clusters with `failover_manager: repmgr`. */
import { REPMGR_DATABASE, REPMGR_ROLE } from './names.ts';
import type { FailoverManager } from '../manager.ts';
import { PG_OS_USER, SECRETS } from '../../postgres/paths.ts';
import { psqlAsPostgres } from '../../postgres/psql.ts';
import { nodeConninfo, REPMGR_CONF, REPMGR_PACKAGES, REPMGRD_UNIT, repmgrBin } from './conf.ts';
import { repmgrHbaRules } from './hba.ts';
import { REJOIN_SCRIPT } from './rejoin-script.ts';
import { repmgrComponent, repmgrHold, repmgrOptions } from './index.ts';
import { readRepmgrSections, TABLE_SECTION } from './observation.ts';
import { REPMGR_CHECKS } from './test-checks.ts';
import { TCP_SETTINGS } from './timing.ts';
import { rebuildCommand } from './scripts.ts';
import { repmgrNodeId } from '../../topology.ts';

const asPostgres = (command: string) => `(cd / && runuser -u ${PG_OS_USER} -- ${command})`;

/** A function, not a constant: the registry is imported by modules this folder imports (postgres/hba.ts). */
export function repmgrFailoverManager(): FailoverManager {
  return {
    name: 'repmgr',
    component: repmgrComponent,
    units: [REPMGRD_UNIT],
    packages: REPMGR_PACKAGES,
    postgres: {
      packages: (p) => [`postgresql-${p.version}-repmgr`],
      preloadLibraries: ['repmgr'],
      // a standby that vanishes from the network leaves the primary's pg_stat_replication
      // within seconds, so a cut-off primary can fence itself before a promotion (timing.ts)
      settings: { ...TCP_SETTINGS },
      roles: [{ name: REPMGR_ROLE, attributes: ['SUPERUSER', 'LOGIN'], secret: SECRETS.repmgr }],
      databases: [{ name: REPMGR_DATABASE, owner: REPMGR_ROLE }],
      hbaRules: repmgrHbaRules,
      pgpass: [{ database: '*', user: REPMGR_ROLE, secret: SECRETS.repmgr }],
    },
    observeSections(p) {
      const show = `${repmgrBin(p)} -f ${REPMGR_CONF} cluster show`;
      return [{ name: TABLE_SECTION, body: `${asPostgres(`timeout 30 ${show} </dev/null`)} 2>&1` }];
    },
    readSections: readRepmgrSections,
    checks: REPMGR_CHECKS,
    daemonUnit: REPMGRD_UNIT,
    pause: `systemctl stop ${REPMGRD_UNIT} 2>/dev/null || true`,
    resume: `systemctl start ${REPMGRD_UNIT}`,
    holdFailover: repmgrHold,
    // repmgr's records describe the nodes as they were: deploy registers them again
    forgetNodes: [
      `if [ "$(${psqlAsPostgres({ sql: `SELECT 1 FROM pg_database WHERE datname = '${REPMGR_DATABASE}'`, onErrorStop: false })})" = 1 ]; then`,
      `  ${psqlAsPostgres({ sql: 'DELETE FROM repmgr.nodes', db: REPMGR_DATABASE, onErrorStop: false })} >/dev/null`,
      'fi',
    ].join('\n'),
    rejoinCommand: REJOIN_SCRIPT,
    switchover: {
      // pg_promote returns as soon as the server takes writes; `repmgr standby promote` would
      // poll for that once a second. repmgr's records follow with `primary register --force`
      // (the old primary, stopped, is marked inactive), as repmgr documents for a promoted node.
      promote: () =>
        `test "$(${psqlAsPostgres({ sql: 'SELECT pg_promote(true, 60)' })})" = t || { echo "pg_promote did not finish" >&2; exit 1; }`,
      record: (p) =>
        asPostgres(`${repmgrBin(p)} -f ${REPMGR_CONF} primary register --force --log-level=WARNING`),
      follow: (p, cluster, primary) =>
        asPostgres(
          `${repmgrBin(p)} -f ${REPMGR_CONF} standby follow --upstream-node-id=${repmgrNodeId(cluster, primary)} --log-level=WARNING`,
        ),
    },
    fencesBelow: (cluster) => repmgrOptions(cluster).minStandbys ?? 0,
    forgetNode: (p, cluster, nodeName) => {
      const id = repmgrNodeId(cluster, nodeName);
      const known = psqlAsPostgres({
        sql: `SELECT count(*) FROM repmgr.nodes WHERE node_id = ${id}`,
        db: REPMGR_DATABASE,
      });
      return [
        'set -eu',
        // a second run (after a failure further on) finds the record gone: repmgr would refuse
        `if [ "$(${known})" != 0 ]; then`,
        `  ${asPostgres(`${repmgrBin(p)} -f ${REPMGR_CONF} standby unregister --node-id=${id} --log-level=WARNING`)}`,
        'fi',
        // repmgr names each standby's slot on its upstream repmgr_slot_<node id>
        `${psqlAsPostgres({ sql: `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_${id}' AND NOT active` })} >/dev/null`,
      ].join('\n');
    },
    rebuildCommand: (r) =>
      rebuildCommand({
        paths: r.paths,
        nodeId: repmgrNodeId(r.cluster, r.nodeName),
        conninfo: nodeConninfo(r.nodeAddress),
        primaryAddress: r.primaryAddress,
        primaryNodeId: repmgrNodeId(r.cluster, r.primaryName),
        ...(r.keepAsideAt !== undefined ? { keepAsideAt: r.keepAsideAt } : {}),
      }),
  };
}
