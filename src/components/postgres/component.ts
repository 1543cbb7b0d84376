/**
 * PostgreSQL from Debian's packages, one `main` cluster per node (conventions: paths.ts).
 *
 * - phase common: /etc/postgresql-common/createcluster.d/tpa.conf: installing postgresql-<v>
 *   creates no cluster, and the one tpa creates (pg_createcluster) has data checksums;
 * - phase postgres-primary (primary) / postgres-replicas (replicas): packages, TLS files,
 *   conf.d/tpa.conf, the infrastructure part of pg_hba.conf, ~postgres/.pgpass, settings;
 *   on the primary also the running service, roles and the repmgr database; on a replica
 *   the empty auto-created cluster is stopped and left for the failover manager to clone over;
 * - phase client-access: the whole pg_hba.conf, client rules included (hba.ts explains why).
 */
import { createHash } from 'node:crypto';
import type { Component, DeployContext, HealthCheck } from '../component.ts';
import type { InventoryHost } from '../../platforms/platform.ts';
import type { HostFacts, Phase, PhasedResources, Resource } from '../../plan/types.ts';
import { sh } from '../../core/shell.ts';
import { TLS_CA_CERT, tlsCertName, tlsKeyName } from '../tls/names.ts';
import {
  CLIENT_BEGIN,
  CLIENT_END,
  clientHbaRules,
  infraHbaRules,
  renderHbaFile,
  renderHbaInfra,
} from './hba.ts';
import {
  PG_OS_GROUP,
  PG_OS_USER,
  PGPASS_PATH,
  createClusterCommand,
  pgPathsFor,
  reloadPostgres,
  restartPostgres,
  type PgPaths,
} from './paths.ts';
import { pgpassContent, requireSecret, roleResources } from './roles.ts';
import { nodeSettings, renderTpaConf, settingValue } from './settings.ts';
import { failoverManagerOf } from '../failover/registry.ts';
import { psqlAsPostgres } from './psql.ts';
import { restartWaitCommand } from './restart-wait.ts';
import { SYSTEM_LOCALE } from '../common/component.ts';
import { serverPackageResources } from './packages.ts';

export const CREATECLUSTER_DIR = '/etc/postgresql-common/createcluster.d';
export const CREATECLUSTER_CONF = `${CREATECLUSTER_DIR}/tpa.conf`;
export const CREATECLUSTER_CONTENT =
  '# Managed by tpa: tpa creates the main cluster itself (not the package), with data checksums\n' +
  "create_main_cluster = false\ninitdb_options = '--data-checksums'\n";

export const PG_PROBES = {
  /** sha256 of pg_hba.conf up to the client section */
  hbaInfra: 'pg:hba-infra',
  /** `exists=0` or `exists=1 checksums=N standby=0|1 databases=N` (from the data directory) */
  cluster: 'pg:cluster',
} as const;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export interface ClusterProbe {
  exists: boolean;
  checksums?: number;
  standby?: boolean;
  databases?: number;
}

export function parseClusterProbe(facts: HostFacts | undefined): ClusterProbe | undefined {
  const raw = facts?.probes[PG_PROBES.cluster];
  if (raw === undefined) return undefined;
  const kv = Object.fromEntries(
    raw
      .trim()
      .split(/\s+/)
      .map((p) => p.split('=') as [string, string]),
  );
  if (kv.exists !== '1') return { exists: false };
  return {
    exists: true,
    checksums: Number(kv.checksums),
    standby: kv.standby === '1',
    databases: Number(kv.databases),
  };
}

export function clusterProbeCommand(p: PgPaths): string {
  return [
    sh`d=${p.dataDir}`,
    'if [ -f "$d/global/pg_control" ]; then',
    `  c=$(${p.binDir}/pg_controldata "$d" | sed -n 's/^Data page checksum version: *//p')`,
    '  s=0; [ -f "$d/standby.signal" ] && s=1',
    '  n=$(ls "$d/base" | wc -l)',
    '  echo "exists=1 checksums=${c:-?} standby=$s databases=$n"',
    'else echo exists=0; fi',
  ].join('\n');
}

export function hbaInfraProbe(p: PgPaths): string {
  return (
    sh`f=${p.hbaFile}; if [ -f "$f" ]; then awk -v b=${CLIENT_BEGIN} '$0 == b { exit } { print }' "$f"; fi` +
    " | sha256sum | cut -d' ' -f1"
  );
}

/**
 * Writes the infrastructure part (stdin) and keeps the client section the file already has,
 * or an empty one: clients are let in by phase client-access only.
 */
export function hbaInfraCommand(p: PgPaths): string {
  return [
    'set -eu',
    sh`f=${p.hbaFile}`,
    'new=$(mktemp "$f.tpa.XXXXXX"); trap \'rm -f "$new"\' EXIT',
    'cat > "$new"',
    sh`if [ -f "$f" ] && grep -qxF ${CLIENT_BEGIN} "$f"; then`,
    sh`  awk -v b=${CLIENT_BEGIN} -v e=${CLIENT_END} '$0 == b { p = 1 } p { print } $0 == e { p = 0 }' "$f" >> "$new"`,
    sh`else printf '%s\\n%s\\n' ${CLIENT_BEGIN} ${CLIENT_END} >> "$new"; fi`,
    `chown ${PG_OS_USER}:${PG_OS_GROUP} "$new"; chmod 0640 "$new"`,
    'mv -f "$new" "$f"',
    'trap - EXIT',
    // now, not at the end of the phase: a replica that cascades from this one is cloned in the
    // same phase and needs its rule from the start
    sh`if systemctl is-active --quiet ${p.service}; then systemctl reload ${p.service}; fi`,
  ].join('\n');
}

function tlsResources(host: InventoryHost, ctx: DeployContext, p: PgPaths): Resource[] {
  const reload = [reloadPostgres(p)];
  const own = { owner: PG_OS_USER, group: PG_OS_GROUP };
  return [
    { kind: 'directory', path: p.tlsDir, mode: 0o750, ...own },
    {
      kind: 'file',
      path: p.caCert,
      content: requireSecret(ctx.secrets, TLS_CA_CERT, host.name),
      mode: 0o644,
      ...own,
      notify: reload,
    },
    {
      kind: 'file',
      path: p.serverCert,
      content: requireSecret(ctx.secrets, tlsCertName(host.name), host.name),
      mode: 0o644,
      ...own,
      notify: reload,
    },
    {
      kind: 'file',
      path: p.serverKey,
      content: requireSecret(ctx.secrets, tlsKeyName(host.name), host.name),
      mode: 0o600,
      ...own,
      secret: true,
      notify: reload,
    },
  ];
}

function clusterOf(host: InventoryHost, ctx: DeployContext) {
  const cluster = ctx.config.clusters.find((c) => c.name === host.cluster);
  if (!cluster) throw new Error(`host ${host.name} belongs to no cluster of the configuration`);
  return cluster;
}

/** The resources of phase postgres-primary or postgres-replicas for one node. */
function nodeResources(host: InventoryHost, ctx: DeployContext, p: PgPaths): Resource[] {
  const cluster = clusterOf(host, ctx);
  const facts = ctx.facts[host.name];
  const primary = host.role === 'primary';
  const resources: Resource[] = [...serverPackageResources(p, ctx.config, cluster)];
  // shared_preload_libraries may name the failover manager's library: it must be there before the restart
  for (const name of failoverManagerOf(cluster).postgres.packages(p))
    resources.push({ kind: 'package', name });
  resources.push({
    kind: 'action',
    id: 'postgres-create-cluster',
    description: `create the cluster ${p.dataDir} (pg_createcluster, data checksums)`,
    command: createClusterCommand(p, SYSTEM_LOCALE),
    // the command itself leaves an existing cluster alone (e.g. a replica's moved-aside data)
    needed: (f) => !parseClusterProbe(f)?.exists,
  });

  if (primary) {
    resources.push({
      kind: 'action',
      id: 'postgres-enable-checksums',
      description: `enable data checksums on the new, still empty cluster ${p.dataDir}`,
      command: [
        'set -eu',
        `systemctl stop ${p.service}`,
        sh`runuser -u ${PG_OS_USER} -- ${p.binDir}/pg_checksums --enable -D ${p.dataDir}`,
        `systemctl start ${p.service}`,
      ].join('\n'),
      // only a cluster created before tpa's createcluster.conf, holding nothing but the three
      // initdb databases; anything else keeps its data and the check reports checksums off
      needed: (f) => {
        const c = parseClusterProbe(f);
        return !!c?.exists && c.checksums === 0 && c.standby === false && (c.databases ?? 99) <= 3;
      },
      timeoutMs: 5 * 60_000,
    });
  } else {
    resources.push({
      kind: 'action',
      id: 'postgres-hold-uncloned-replica',
      description: `stop the empty cluster Debian created on ${host.name} until it is cloned from its upstream`,
      // re-checked on the host: after a clone standby.signal exists and the unit is left alone
      command: sh`set -eu\nif [ ! -f ${p.standbySignal} ]; then systemctl stop ${p.service}; fi`,
      // facts predate the package install, so "no cluster yet" also needs the stop
      needed: (f) => {
        const c = parseClusterProbe(f);
        return c === undefined || !c.exists || c.standby === false;
      },
    });
  }

  resources.push(...tlsResources(host, ctx, p));

  const settings = nodeSettings(host, ctx.config, ctx.inventory);
  resources.push({
    kind: 'file',
    path: p.tpaConf,
    content: renderTpaConf(settings),
    mode: 0o644,
    owner: PG_OS_USER,
    group: PG_OS_GROUP,
    configures: p.service,
    // a server that was not running when facts were gathered (just installed) has no
    // pg_settings to compare with: restart it once to read the file (try-restart: no-op if stopped)
    ...(facts?.postgres ? {} : { notify: [restartPostgres(p)] }),
  });

  const infra = renderHbaInfra(infraHbaRules(host, ctx.config, ctx.inventory));
  resources.push({
    kind: 'action',
    id: 'postgres-hba-infrastructure',
    description: `write the infrastructure rules of ${p.hbaFile} (client rules come in phase client-access)`,
    command: hbaInfraCommand(p),
    stdin: infra,
    needed: (f) => f.probes[PG_PROBES.hbaInfra] !== sha256(infra),
  });

  resources.push({
    kind: 'file',
    path: PGPASS_PATH,
    content: pgpassContent(cluster, ctx.secrets, host.name),
    mode: 0o600,
    owner: PG_OS_USER,
    group: PG_OS_GROUP,
    secret: true,
  });

  // After the configuration files: a server this starts reads them (the engine drops the
  // restart they notified), one that runs already is restarted by that handler. Replicas:
  // the failover manager starts the service after cloning. Settings and roles need it up.
  if (primary) resources.push({ kind: 'service', name: p.service, state: 'running', enabled: true });

  for (const [name, value] of Object.entries(settings.settings)) {
    resources.push({ kind: 'pg-setting', name, value: settingValue(value), unit: p.service });
  }

  if (primary) resources.push(...roleResources(cluster, ctx.config, ctx.secrets, facts, host.name));
  return resources;
}

export const postgresComponent: Component = {
  name: 'postgres',
  appliesTo: (host) => host.kind === 'postgres',

  probes(_host, ctx) {
    const p = pgPathsFor(ctx.config);
    return { [PG_PROBES.hbaInfra]: hbaInfraProbe(p), [PG_PROBES.cluster]: clusterProbeCommand(p) };
  },

  desired(host, ctx): PhasedResources[] {
    const p = pgPathsFor(ctx.config);
    const phase: Phase = host.role === 'primary' ? 'postgres-primary' : 'postgres-replicas';
    const hba = renderHbaFile(
      infraHbaRules(host, ctx.config, ctx.inventory),
      clientHbaRules(host, ctx.config),
    );
    return [
      {
        phase: 'common',
        resources: [
          { kind: 'directory', path: CREATECLUSTER_DIR, mode: 0o755, owner: 'root', group: 'root' },
          {
            kind: 'file',
            path: CREATECLUSTER_CONF,
            content: CREATECLUSTER_CONTENT,
            mode: 0o644,
            owner: 'root',
            group: 'root',
          },
        ],
      },
      { phase, resources: nodeResources(host, ctx, p) },
      {
        phase: 'client-access',
        resources: [
          {
            kind: 'file',
            path: p.hbaFile,
            content: hba,
            mode: 0o640,
            owner: PG_OS_USER,
            group: PG_OS_GROUP,
            notify: [reloadPostgres(p)],
          },
        ],
      },
    ];
  },

  afterRestart(_host, unit, ctx) {
    const p = pgPathsFor(ctx.config);
    return unit === p.service ? restartWaitCommand(p) : undefined;
  },

  checks(_host, ctx): HealthCheck[] {
    const p = pgPathsFor(ctx.config);
    // one connection for all four: checks run with every deploy, and on a node a psql costs
    // more than the query
    const sql =
      "SELECT current_setting('data_checksums'), current_setting('ssl'), " +
      "(SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL OR auth_method = 'trust')";
    const psql = psqlAsPostgres({ sql, onErrorStop: false, args: ['-F', ' '] });
    return [
      {
        name: 'postgres accepts connections; data checksums and ssl on; pg_hba.conf parses, no trust rule',
        command: [
          `r=$(${psql}) || { echo 'postgres does not accept connections' >&2; exit 1; }`,
          '# shellcheck disable=SC2086 # three words',
          'set -- $r',
          `[ "$1" = on ] || { echo "data checksums are $1" >&2; exit 1; }`,
          `[ "$2" = on ] || { echo "ssl is $2" >&2; exit 1; }`,
          `[ "$3" = 0 ] || { echo "pg_hba.conf has $3 rules that do not parse or trust" >&2; exit 1; }`,
          sh`[ -s ${p.hbaFile} ] || { echo ${`${p.hbaFile} is empty`} >&2; exit 1; }`,
        ].join('\n'),
      },
    ];
  },
};
