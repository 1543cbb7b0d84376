/**
 * Every postgresql.conf setting tpa manages for a node, and conf.d/tpa.conf rendered from
 * them. Pure. Order of precedence (later wins): tpa's fixed settings and tuning rules,
 * config.postgres.settings, the cluster's postgres_settings, the node's postgres_settings.
 */
import { ConfigError, type ConfigIssue } from '../../core/errors.ts';
import type { ClusterConfig, ClusterGroupConfig } from '../../model/schema.ts';
import { settingProblem } from '../../model/rules/pg-settings.ts';
import { settingText } from '../../model/pg-settings/value.ts';
import type { Inventory, InventoryHost } from '../../platforms/platform.ts';
import { clusterNodes, PG_PORT, pgPathsFor, type PgPaths } from './paths.ts';
import { sh } from '../../core/shell.ts';
import { failoverManagerOf } from '../failover/registry.ts';
import { DEFAULT_MAX_CONNECTIONS, tunedSettings, type PgValue } from './tuning.ts';

/** pg_settings spells a few names in mixed case; facts are looked up by that spelling */
const MIXED_CASE: Record<string, string> = {
  timezone: 'TimeZone',
  datestyle: 'DateStyle',
  intervalstyle: 'IntervalStyle',
};

/** Setting names are case-insensitive in postgresql.conf; this is pg_settings' spelling. */
export function canonicalSettingName(name: string): string {
  const lower = name.toLowerCase();
  return MIXED_CASE[lower] ?? lower;
}

export interface NodeSettings {
  /** name -> value, in the order they are written */
  settings: Record<string, PgValue>;
  /** which of them came from config.yml (shown as such in tpa.conf) */
  overridden: Set<string>;
}

function clusterOf(
  host: InventoryHost,
  config: ClusterGroupConfig,
): { cluster: ClusterConfig; index: number } {
  const index = config.clusters.findIndex((c) => c.name === host.cluster);
  if (index < 0) throw new Error(`host ${host.name} belongs to no cluster of the configuration`);
  return { cluster: config.clusters[index]!, index };
}

/** 'ANY 1 ("a", "b")' — every node of the cluster, so the list stays right after a failover. */
export function quorumStandbyNames(nodeNames: string[]): string {
  return `ANY 1 (${nodeNames.map((n) => `"${n.replaceAll('"', '""')}"`).join(', ')})`;
}

/** The overrides that apply to a node, with their config.yml paths (for error messages). */
function overrideLayers(host: InventoryHost, config: ClusterGroupConfig) {
  const { cluster, index } = clusterOf(host, config);
  const nodeIndex = cluster.nodes.findIndex((n) => n.name === host.name);
  const node = cluster.nodes[nodeIndex];
  return [
    { path: ['postgres', 'settings'], values: config.postgres.settings },
    { path: ['clusters', index, 'postgres_settings'], values: cluster.postgres_settings ?? {} },
    {
      path: ['clusters', index, 'nodes', nodeIndex, 'postgres_settings'],
      values: node?.postgres_settings ?? {},
    },
  ];
}

/** config.yml is checked when it is loaded (the postgresSettings rule); a config built in code is checked here. */
function checkOverrides(layers: ReturnType<typeof overrideLayers>): void {
  const issues: ConfigIssue[] = [];
  for (const { path, values } of layers) {
    for (const [name, value] of Object.entries(values)) {
      const problem = settingProblem(name, value);
      if (problem) issues.push({ file: 'config.yml', path: [...path, name].join('.'), ...problem });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

export function nodeSettings(
  host: InventoryHost,
  config: ClusterGroupConfig,
  inventory: Inventory,
): NodeSettings {
  const { cluster } = clusterOf(host, config);
  const paths = pgPathsFor(config);
  const nodes = clusterNodes(host, inventory.hosts);
  const layers = overrideLayers(host, config);
  checkOverrides(layers);
  const merged: Record<string, PgValue> = {};
  for (const { values } of layers) {
    for (const [name, value] of Object.entries(values)) merged[canonicalSettingName(name)] = value;
  }

  const maxConnections = Number(merged.max_connections ?? DEFAULT_MAX_CONNECTIONS);
  const replicas = nodes.filter((n) => n.role === 'replica');
  const libraries = ['pg_stat_statements', ...failoverManagerOf(cluster).postgres.preloadLibraries];

  const base: Record<string, PgValue> = {
    listen_addresses: '*',
    port: PG_PORT,
    password_encryption: 'scram-sha-256',
    ssl: true,
    ssl_cert_file: paths.serverCert,
    ssl_key_file: paths.serverKey,
    ssl_ca_file: paths.caCert,
    ssl_min_protocol_version: 'TLSv1.2',
    ...tunedSettings({
      memoryMb: host.memoryMb,
      cpus: host.cpus,
      volumeGb: host.volumeGb,
      clusterMaxCpus: Math.max(host.cpus, ...nodes.map((n) => n.cpus)),
      clusterSize: nodes.length,
      maxConnections:
        Number.isFinite(maxConnections) && maxConnections > 0 ? maxConnections : DEFAULT_MAX_CONNECTIONS,
    }),
    wal_level: 'replica',
    wal_log_hints: true, // pg_rewind (repmgr node rejoin) needs it with or without checksums
    // 'on' reads back as 'pglz'; name the method so the value compares equal
    wal_compression: 'lz4',
    hot_standby: true,
    hot_standby_feedback: true,
    checkpoint_timeout: '15min',
    checkpoint_completion_target: 0.9,
    synchronous_commit: 'on',
    // quorum commit only makes sense with someone to acknowledge; one node alone would hang
    synchronous_standby_names:
      cluster.durability === 'sync' && replicas.length > 0
        ? quorumStandbyNames(nodes.map((n) => n.name))
        : '',
    shared_preload_libraries: libraries.join(','),
    TimeZone: 'UTC',
    log_timezone: 'UTC',
    log_line_prefix: '%m [%p] %q%u@%d/%a ',
    log_min_duration_statement: '1s',
    log_checkpoints: true,
    log_lock_waits: true,
    log_temp_files: '10MB',
    log_autovacuum_min_duration: '10s',
    log_replication_commands: true,
    track_io_timing: true,
    ...failoverManagerOf(cluster).postgres.settings,
  };
  const overridden = new Set(Object.keys(merged));
  return { settings: { ...base, ...merged }, overridden };
}

/** The value as postgresql.conf wants it: numbers bare, booleans on/off, strings quoted. */
export function confValue(v: PgValue): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') return String(v);
  return `'${v.replaceAll("'", "''")}'`;
}

/** The value as a pg-setting resource carries it (unquoted). */
export function settingValue(v: PgValue): string {
  // the same text the settings rule checked
  return settingText(v);
}

export function renderTpaConf(ns: NodeSettings): string {
  const lines = [
    '# Managed by tpa: changes made here are overwritten by the next `tpa deploy`.',
    '# To change a value, set postgres.settings (or a cluster or node postgres_settings) in config.yml.',
    '# The rules behind the computed values: src/components/postgres/tuning.ts.',
    '',
  ];
  for (const [name, value] of Object.entries(ns.settings)) {
    lines.push(`${name} = ${confValue(value)}${ns.overridden.has(name) ? '  # from config.yml' : ''}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Shell (root, on a standby about to be promoted alone: tpa fork) that empties its
 * synchronous_standby_names in tpa.conf and reloads. The standby still carries its old
 * cluster's quorum list, which it ignores while in recovery; promoted with it, every write
 * would wait for standbys it no longer has. The next deploy writes the whole file.
 */
export function noSyncStandbysCommand(p: PgPaths): string {
  return [
    'set -e',
    sh`sed -i "s/^synchronous_standby_names = .*/synchronous_standby_names = ''/" ${p.tpaConf}`,
    sh`systemctl reload ${p.service}`,
  ].join('\n');
}
