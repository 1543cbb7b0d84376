/**
 * repmgr: replication metadata, cloning of replicas and automatic failover (repmgrd) for
 * clusters with `failover_manager: repmgr`, from Debian's packages.
 *
 *   postgres-primary   (configured primary) packages, /etc/repmgr.conf, sudo rules, event
 *                      script; `repmgr primary register` (creates the repmgr extension)
 *   postgres-replicas  (replicas, the engine runs them by upstream depth) the same files;
 *                      `repmgr standby clone` from the upstream when the data directory holds
 *                      no member of this cluster; start the server; `repmgr standby register`
 *   common             (every node) tpa's native systemd unit for repmgrd; the start guard
 *                      that fences a former primary after a failover (fence.ts)
 *   failover-manager   (every node) repmgrd enabled and running
 *   checks             repmgrd active; `repmgr cluster show` clean and complete on each node
 *
 * A replica clones from its configured `upstream`, else from the node that is the primary
 * now (from facts), so a replica added after a failover clones from the real primary.
 */
import { sh } from '../../../core/shell.ts';
import type { Component, DeployContext, HealthCheck } from '../../component.ts';
import type { ClusterConfig } from '../../../model/schema.ts';
import type { HostFacts, PhasedResources, Resource } from '../../../plan/types.ts';
import type { InventoryHost } from '../../../platforms/platform.ts';
import { PG_OS_GROUP, PG_OS_USER, pgPathsFor, type PgPaths } from '../../postgres/paths.ts';
import {
  EVENT_SCRIPT,
  nodeConninfo,
  REPMGR_CONF,
  REPMGR_PACKAGES,
  REPMGRD_UNIT,
  REPMGRD_UNIT_FILE,
  repmgrBin,
  renderRepmgrConf,
  renderRepmgrdUnit,
  renderSudoers,
  SUDOERS_FILE,
  TPA_LIB_DIR,
  type RepmgrOptions,
} from './conf.ts';
import {
  cloneCommand,
  clusterShowCheck,
  dataDirProbeCommand,
  nodeRecordProbeCommand,
  parseDataDirProbe,
  parseNodeRecord,
  primaryRegisterCommand,
  renderEventScript,
  standbyRegisterCommand,
  startStandbyCommand,
  unitStateProbeCommand,
} from './scripts.ts';
import {
  clusterOfHost,
  cloneUpstreamName,
  currentPrimaryName,
  hostByName,
  parsePrimaryState,
  repmgrNodeId,
} from '../../topology.ts';
import { systemdReload } from '../../systemd.ts';
import { DEFAULT_MIN_STANDBYS } from './timing.ts';
import { fenceNowResource } from './fence-now.ts';
import { fenceDropInPath, fenceResources, renderFenceDropIn } from './fence.ts';

export const DATADIR_PROBE = 'repmgr.datadir';
export const NODE_RECORD_PROBE = 'repmgr.node';
export const UNIT_PROBE = 'repmgr.pg-unit';

/** What config.yml sets (clusters[].repmgr, nodes[].failover_priority); defaults for the rest. */
export function repmgrOptions(cluster: ClusterConfig): Partial<RepmgrOptions> {
  const r = cluster.repmgr ?? {};
  const f = cluster.failover ?? {};
  const priorities: Record<string, number> = {};
  for (const n of cluster.nodes)
    if (n.failover_priority !== undefined) priorities[n.name] = n.failover_priority;
  // a single node has no standby to lose: nothing to fence
  const minStandbys = cluster.nodes.length > 1 ? (f.min_standbys ?? DEFAULT_MIN_STANDBYS) : 0;
  return {
    ...(f.timeout !== undefined ? { failoverTimeout: f.timeout } : {}),
    minStandbys,
    ...(r.monitoring_history !== undefined ? { monitoringHistory: r.monitoring_history } : {}),
    priorities,
  };
}

type FileResource = Extract<Resource, { kind: 'file' }>;

function file(
  path: string,
  content: string,
  mode: number,
  group = 'root',
  extra: Pick<FileResource, 'notify' | 'secret'> = {},
): FileResource {
  return { kind: 'file', path, content, mode, owner: 'root', group, ...extra };
}

/** files and packages every repmgr node needs before repmgr runs there */
function nodeSetup(host: InventoryHost, ctx: DeployContext, p: PgPaths): Resource[] {
  const cluster = clusterOfHost(host, ctx.config);
  return [
    ...REPMGR_PACKAGES(p).map((name): Resource => ({ kind: 'package', name })),
    { kind: 'package', name: 'sudo' },
    file(SUDOERS_FILE, renderSudoers(p), 0o440),
    { kind: 'directory', path: TPA_LIB_DIR, mode: 0o755, owner: 'root', group: 'root' },
    file(EVENT_SCRIPT, renderEventScript(), 0o755),
    file(
      REPMGR_CONF,
      renderRepmgrConf({
        cluster,
        nodeName: host.name,
        address: host.address,
        paths: p,
        options: repmgrOptions(cluster),
      }),
      0o640,
      PG_OS_GROUP,
      { notify: [`restart:${REPMGRD_UNIT}`] },
    ),
  ];
}

/** the system identifier of the cluster: the current primary's, when it answers */
function clusterSystemId(ctx: DeployContext, primary: string): string | undefined {
  const f = ctx.facts[primary];
  return parsePrimaryState(f).systemId ?? f?.postgres?.systemIdentifier;
}

/**
 * Clone only a data directory that is not this cluster's: no standby.signal, not in
 * recovery, not the current primary, and a system identifier other than the cluster's
 * (Debian's empty cluster, or nothing yet). The command re-checks all of it on the host.
 */
export function cloneNeeded(
  facts: HostFacts,
  isCurrentPrimary: boolean,
  clusterSysid: string | undefined,
): boolean {
  if (isCurrentPrimary) return false;
  const state = parsePrimaryState(facts);
  if (state.running && state.inRecovery) return false;
  const dd = parseDataDirProbe(facts.probes[DATADIR_PROBE]);
  if (dd?.standbySignal) return false;
  const mine = dd?.systemId || state.systemId || facts.postgres?.systemIdentifier;
  if (mine && clusterSysid && mine === clusterSysid) return false;
  return true;
}

/**
 * Registration of the configured primary. It runs in phase postgres-replicas, alongside the
 * clones (which wait for it): in postgres-primary the server still listens on localhost
 * only until the phase's restart handler, and repmgr connects to the node's address.
 */
function primaryRegistration(host: InventoryHost, ctx: DeployContext, p: PgPaths): Resource[] {
  const cluster = clusterOfHost(host, ctx.config);
  const nodeId = repmgrNodeId(cluster, host.name);
  return [
    {
      kind: 'action',
      id: 'repmgr-primary-register',
      description: `register ${host.name} as the repmgr primary (node ${nodeId})`,
      command: primaryRegisterCommand(p, nodeId, nodeConninfo(host.address)),
      needed: (f) => {
        const rec = parseNodeRecord(f.probes[NODE_RECORD_PROBE]);
        if (rec && rec.conninfo === nodeConninfo(host.address)) return false;
        const s = parsePrimaryState(f);
        return !(s.running && s.inRecovery);
      },
    },
  ];
}

function replicaResources(host: InventoryHost, ctx: DeployContext, p: PgPaths): Resource[] {
  const cluster = clusterOfHost(host, ctx.config);
  const nodeId = repmgrNodeId(cluster, host.name);
  const primary = currentPrimaryName(cluster, ctx.facts);
  const upstreamName = cloneUpstreamName(cluster, host.name, ctx.facts);
  const upstream = hostByName(ctx.inventory.hosts, upstreamName);
  const upstreamNodeId = repmgrNodeId(cluster, upstreamName);
  const isCurrentPrimary = primary === host.name;
  const sysid = clusterSystemId(ctx, primary);
  return [
    ...nodeSetup(host, ctx, p),
    {
      kind: 'action',
      id: 'repmgr-standby-clone',
      description: `clone ${host.name} from ${upstreamName} (repmgr standby clone)`,
      command: cloneCommand({ paths: p, upstreamAddress: upstream.address, upstreamNodeId }),
      needed: (f) => cloneNeeded(f, isCurrentPrimary, sysid),
      timeoutMs: 60 * 60 * 1000,
    },
    // the cloner owns the replica's server unit (see postgres/paths.ts)
    {
      kind: 'action',
      id: 'repmgr-start-standby',
      description: `start and enable ${p.service} (a standby only)`,
      command: startStandbyCommand(p),
      needed: (f) => f.probes[UNIT_PROBE] !== 'active=1 enabled=1',
      // a server this starts reads the configuration written before it: no restart after
      ...(ctx.facts[host.name]?.probes[UNIT_PROBE]?.startsWith('active=0') ? { starts: p.service } : {}),
    },
    {
      kind: 'action',
      id: 'repmgr-standby-register',
      description: `register ${host.name} as a repmgr standby of ${upstreamName} (node ${nodeId})`,
      command: standbyRegisterCommand(p, nodeId, upstreamNodeId, nodeConninfo(host.address)),
      needed: (f) => {
        if (isCurrentPrimary) return false;
        const rec = parseNodeRecord(f.probes[NODE_RECORD_PROBE]);
        // a standby recorded without an upstream cannot be promoted by repmgrd
        return (
          !rec ||
          rec.conninfo !== nodeConninfo(host.address) ||
          (rec.type === 'standby' && rec.upstreamNodeId === undefined)
        );
      },
    },
  ];
}

/**
 * tpa's repmgrd unit is in place before the repmgr package is installed: the package's
 * postinst then leaves its SysV script alone (invoke-rc.d --skip-systemd-native) instead of
 * "starting" it into a misleading active (exited) state.
 */
function repmgrdUnit(p: PgPaths): Resource {
  return file(REPMGRD_UNIT_FILE, renderRepmgrdUnit(p), 0o644, 'root', {
    notify: [`restart:${REPMGRD_UNIT}`],
  });
}

/** `repmgr service pause`: every repmgrd of the cluster keeps monitoring but does not fail over */
export function repmgrHold(p: PgPaths): { hold: string; release: string } {
  const service = (verb: string) =>
    `cd / && runuser -u ${PG_OS_USER} -- ${repmgrBin(p)} -f ${REPMGR_CONF} service ${verb} --log-level=WARNING`;
  return { hold: service('pause'), release: service('unpause') };
}

export const repmgrComponent: Component = {
  name: 'repmgr',

  appliesTo(host, ctx) {
    return host.kind === 'postgres' && clusterOfHost(host, ctx.config).failover_manager === 'repmgr';
  },

  // A planned restart of the primary is not a failure: repmgrd on every node pauses for it (a
  // restart slower than failover.timeout, on a loaded machine, had a standby promoted).
  restartGuard(host, unit, ctx) {
    const p = pgPathsFor(ctx.config);
    if (unit !== p.service || host.role !== 'primary') return undefined;
    const { hold, release } = repmgrHold(p);
    return { what: 'repmgrd paused on every node', before: hold, after: release };
  },

  probes(host, ctx) {
    const p = pgPathsFor(ctx.config);
    const nodeId = repmgrNodeId(clusterOfHost(host, ctx.config), host.name);
    return {
      [DATADIR_PROBE]: dataDirProbeCommand(p),
      [NODE_RECORD_PROBE]: nodeRecordProbeCommand(nodeId),
      [UNIT_PROBE]: unitStateProbeCommand(p),
    };
  },

  desired(host, ctx) {
    const p = pgPathsFor(ctx.config);
    const phases: PhasedResources[] =
      host.role === 'primary'
        ? [
            { phase: 'postgres-primary', resources: nodeSetup(host, ctx, p) },
            { phase: 'postgres-replicas', resources: primaryRegistration(host, ctx, p) },
          ]
        : [{ phase: 'postgres-replicas', resources: replicaResources(host, ctx, p) }];
    return [
      {
        phase: 'common',
        resources: [
          repmgrdUnit(p),
          ...fenceResources(host, ctx.inventory.hosts, p),
          fenceNowResource(p),
          systemdReload(
            { file: REPMGRD_UNIT_FILE, content: renderRepmgrdUnit(p) },
            { file: fenceDropInPath(p), content: renderFenceDropIn(p) },
          ),
        ],
      },
      ...phases,
      {
        phase: 'failover-manager',
        resources: [{ kind: 'service', name: REPMGRD_UNIT, state: 'running', enabled: true }],
      },
    ];
  },

  checks(host, ctx): HealthCheck[] {
    const p = pgPathsFor(ctx.config);
    const cluster = clusterOfHost(host, ctx.config);
    const checks: HealthCheck[] = [
      { name: 'repmgrd is running', command: sh`systemctl is-active --quiet ${REPMGRD_UNIT}` },
    ];
    // cluster show asks every node from wherever it runs: once per cluster, on the primary,
    // not once per node (N² connections that overran repmgr's connect timeout at 9 nodes)
    if (currentPrimaryName(cluster, ctx.facts) === host.name) {
      checks.push({
        name: 'repmgr cluster show: every node registered and in its role',
        command: clusterShowCheck(p, cluster.nodes.length),
      });
    }
    return checks;
  },
};

export { REPMGR_CONF, EVENT_SCRIPT };
