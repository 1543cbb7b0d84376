/**
 * barman, from Debian's packages, on the group's backup server(s): one barman server per
 * cluster it backs up (backup.mode shared: several clusters per host; exclusive: one).
 *
 *   failover-manager  (the cluster's current primary) EXECUTE on the backup functions for the
 *                     barman role (grants.ts); roles and pg_hba rules come from the postgres
 *                     component. Before phase backups, because hosts run in parallel within a
 *                     phase and barman's first check needs the grants.
 *   backups           (backup host) packages, the CA, ~barman/.pgpass (0600), one
 *                     /etc/barman.d/<cluster>.conf per cluster pointing at its current primary,
 *                     the schedule in /etc/cron.d/tpa-barman; then per cluster, as needed:
 *                     start WAL streaming and archive a first WAL file, take the first full
 *                     backup, and `barman check` must pass.
 *
 * A server the host no longer serves (its cluster removed, moved to another backup host, or
 * backups turned off) is retired (retire.ts): WAL streaming stopped, its tpa-written server
 * file removed, its backups kept.
 *
 * The primary is decided from facts like pgbouncer's route, so a deploy after a failover
 * re-points barman to the node that is the primary now (receive-wal is restarted against it,
 * and barman creates its slot there).
 */
import type { Component, DeployContext, HealthCheck } from '../component.ts';
import type { ClusterConfig } from '../../model/schema.ts';
import { backupServerOf } from '../../model/backup.ts';
import type { HostFacts, Resource } from '../../plan/types.ts';
import type { InventoryHost } from '../../platforms/platform.ts';
import { clusterNodes, pgPathsFor, SECRETS } from '../postgres/paths.ts';
import { TPA_LIB_DIR } from '../paths.ts';
import { psqlAsPostgres } from '../postgres/psql.ts';
import { requireSecret } from '../postgres/roles.ts';
import { clusterOfHost, currentPrimaryName, hostByName } from '../topology.ts';
import { TLS_CA_CERT } from '../tls/names.ts';
import { renderBarmanPgpass, renderCronFile, serverConfFor } from './conf.ts';
import {
  FOLLOW_CONF,
  FOLLOW_CONF_DIR,
  FOLLOW_SCRIPT,
  followCronLine,
  renderFollowConf,
  renderFollowScript,
} from './follow.ts';
import { BARMAN_GRANTS_PROBE, grantSql, grantsNeeded, grantsProbeCommand } from './grants.ts';
import {
  leftoverServers,
  managedConfs,
  managedConfsProbeCommand,
  MANAGED_CONF_PROBE,
  retireResources,
} from './retire.ts';
import { STALE_SLOT_PROBE, dropStaleSlotResource, staleSlotProbeCommand } from './slots.ts';
import {
  BARMAN_CONF_DIR,
  BARMAN_CRON_FILE,
  BARMAN_GROUP,
  BARMAN_PG_DIR,
  BARMAN_PGPASS,
  BARMAN_ROOT_CERT,
  BARMAN_USER,
  clustersServedBy,
  serverConfPath,
} from './paths.ts';
import { checkCommand, firstBackupCommand, startStreamingCommand } from './scripts.ts';
import { BARMAN_STATE_PROBE, serverState, stateProbeCommand, type ServerState } from './state.ts';

/** the address of the cluster's primary now (facts), else config's primary */
export function primaryAddressOf(cluster: ClusterConfig, ctx: DeployContext): string {
  return hostByName(ctx.inventory.hosts, currentPrimaryName(cluster, ctx.facts)).address;
}

/** receive-wal streams from another node than the one the configuration will name */
export function repointNeeded(state: ServerState | undefined, primaryAddress: string): boolean {
  return !!state && state.conninfoHost !== '' && state.conninfoHost !== primaryAddress;
}

export function streamingNeeded(state: ServerState | undefined, primaryAddress: string): boolean {
  return (
    !state || !state.receiveWalRunning || state.walsArchived === 0 || repointNeeded(state, primaryAddress)
  );
}

function serverActions(cluster: ClusterConfig, primaryAddress: string): Resource[] {
  const s = cluster.name;
  const stream = (f: HostFacts) => streamingNeeded(serverState(f, s), primaryAddress);
  const backup = (f: HostFacts) => (serverState(f, s)?.backupsDone ?? 0) === 0;
  return [
    {
      kind: 'action',
      id: `barman-stream-${s}`,
      description: `start WAL streaming of cluster ${s} from ${primaryAddress} and archive a first WAL file`,
      command: startStreamingCommand(s, primaryAddress),
      needed: stream,
      timeoutMs: 5 * 60_000,
    },
    {
      kind: 'action',
      id: `barman-first-backup-${s}`,
      description: `take the first full backup of cluster ${s}`,
      command: firstBackupCommand(s),
      needed: backup,
      timeoutMs: 6 * 60 * 60_000,
    },
    {
      kind: 'action',
      id: `barman-check-${s}`,
      description: `barman check ${s}: every check OK`,
      command: checkCommand(s),
      needed: (f) => stream(f) || backup(f),
      timeoutMs: 2 * 60_000,
    },
  ];
}

/**
 * A backup host that serves nothing now but still has tpa's files: retire its servers and
 * take their lines out of the cron file and the follower's list, nothing else.
 */
function emptiedHostResources(host: InventoryHost, ctx: DeployContext): Resource[] {
  const facts = ctx.facts[host.name];
  const retire = retireResources(leftoverServers(facts, []));
  if (retire.length === 0 && !managedConfs(facts).cronFile) return [];
  const root = { owner: 'root', group: 'root' };
  return [
    ...retire,
    { kind: 'file', path: FOLLOW_CONF, content: renderFollowConf([]), mode: 0o644, ...root },
    {
      kind: 'file',
      path: BARMAN_CRON_FILE,
      content: renderCronFile(ctx.config.backup.schedule, [], [followCronLine()]),
      mode: 0o644,
      ...root,
    },
  ];
}

function backupHostResources(host: InventoryHost, ctx: DeployContext): Resource[] {
  const served = clustersServedBy(host, ctx.config);
  if (served.length === 0) return emptiedHostResources(host, ctx);
  const p = pgPathsFor(ctx.config);
  const password = requireSecret(ctx.secrets, SECRETS.barman, host.name);
  const own = { owner: BARMAN_USER, group: BARMAN_GROUP };
  const resources: Resource[] = [
    { kind: 'package', name: 'barman' },
    { kind: 'package', name: `postgresql-client-${p.version}` },
    { kind: 'package', name: 'cron' },
    { kind: 'package', name: 'openssh-client' },
    { kind: 'service', name: 'cron', state: 'running', enabled: true },
    { kind: 'directory', path: BARMAN_PG_DIR, mode: 0o700, ...own },
    {
      kind: 'file',
      path: BARMAN_ROOT_CERT,
      content: requireSecret(ctx.secrets, TLS_CA_CERT, host.name),
      mode: 0o644,
      ...own,
    },
    {
      kind: 'file',
      path: BARMAN_PGPASS,
      content: renderBarmanPgpass(password),
      mode: 0o600,
      ...own,
      secret: true,
    },
    { kind: 'directory', path: BARMAN_CONF_DIR, mode: 0o755, owner: 'root', group: 'root' },
  ];
  // actions run after the files, so the cron file and the follower's list no longer name a
  // server when it is retired
  const actions: Resource[] = retireResources(
    leftoverServers(
      ctx.facts[host.name],
      served.map((c) => c.name),
    ),
  );
  for (const cluster of served) {
    const primaryAddress = primaryAddressOf(cluster, ctx);
    resources.push({
      kind: 'file',
      path: serverConfPath(cluster.name),
      content: serverConfFor(ctx.config, cluster.name, primaryAddress),
      mode: 0o644,
      owner: 'root',
      group: 'root',
    });
    actions.push(...serverActions(cluster, primaryAddress));
  }
  const root = { owner: 'root', group: 'root' };
  const followed = served.map((c) => ({
    server: c.name,
    addresses: clusterNodes({ cluster: c.name } as InventoryHost, ctx.inventory.hosts).map((h) => h.address),
  }));
  resources.push(
    { kind: 'directory', path: TPA_LIB_DIR, mode: 0o755, ...root },
    { kind: 'file', path: FOLLOW_SCRIPT, content: renderFollowScript(), mode: 0o755, ...root },
    { kind: 'directory', path: FOLLOW_CONF_DIR, mode: 0o755, ...root },
    { kind: 'file', path: FOLLOW_CONF, content: renderFollowConf(followed), mode: 0o644, ...root },
    {
      kind: 'file',
      path: BARMAN_CRON_FILE,
      content: renderCronFile(
        ctx.config.backup.schedule,
        served.map((c) => c.name),
        [followCronLine()],
      ),
      mode: 0o644,
      ...root,
    },
  );
  return [...resources, ...actions];
}

function backedUp(host: InventoryHost, ctx: DeployContext): boolean {
  if (host.kind !== 'postgres') return false;
  return backupServerOf(ctx.config, clusterOfHost(host, ctx.config)) !== undefined;
}

export const barmanComponent: Component = {
  name: 'barman',

  appliesTo(host, ctx) {
    // every backup host: one that serves nothing now may still hold servers to retire
    if (host.kind === 'barman') return true;
    return backedUp(host, ctx);
  },

  probes(host, ctx): Record<string, string> {
    if (host.kind === 'barman') {
      return {
        [BARMAN_STATE_PROBE]: stateProbeCommand(clustersServedBy(host, ctx.config).map((c) => c.name)),
        [MANAGED_CONF_PROBE]: managedConfsProbeCommand(),
      };
    }
    return {
      [BARMAN_GRANTS_PROBE]: grantsProbeCommand(),
      [STALE_SLOT_PROBE]: staleSlotProbeCommand(),
    };
  },

  desired(host, ctx) {
    if (host.kind === 'barman') {
      const resources = backupHostResources(host, ctx);
      return resources.length ? [{ phase: 'backups', resources }] : [];
    }
    const cluster = clusterOfHost(host, ctx.config);
    if (currentPrimaryName(cluster, ctx.facts) !== host.name) {
      // a former primary keeps barman's slot, which would hold WAL back on it
      return [{ phase: 'backups', resources: [dropStaleSlotResource()] }];
    }
    return [
      {
        phase: 'failover-manager',
        resources: [
          {
            kind: 'action',
            id: 'barman-grants',
            description: 'let the barman role run the backup functions (EXECUTE grants)',
            command: psqlAsPostgres({ tuplesOnly: false, port: false }),
            stdin: grantSql(),
            needed: grantsNeeded,
          },
        ],
      },
    ];
  },

  checks(host, ctx): HealthCheck[] {
    if (host.kind !== 'barman') return [];
    return clustersServedBy(host, ctx.config).map((c) => ({
      name: `barman check ${c.name}`,
      command: checkCommand(c.name),
    }));
  },
};
