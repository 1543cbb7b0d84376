/**
 * The config.yml schema: ClusterGroup > Cluster > Node (seed 001), with the customer's
 * inputs of seed 000. Pure; defaults are filled in here and nowhere else.
 */
import { z } from 'zod';

export const PLATFORMS = ['lxc', 'bare', 'aws'] as const;
export const ARCHITECTURES = ['M1'] as const;
export const FAILOVER_MANAGERS = ['repmgr', 'patroni', 'none'] as const;
export const DURABILITIES = ['async', 'sync'] as const;
export const POOLERS = ['pgbouncer', 'none'] as const;
/** what a cluster runs when config.yml does not say (also `tpa configure`'s and `tpa demo`'s choice) */
export const DEFAULT_FAILOVER_MANAGER = 'repmgr' satisfies (typeof FAILOVER_MANAGERS)[number];
export const DEFAULT_POOLER = 'pgbouncer' satisfies (typeof POOLERS)[number];
export const BACKUP_MODES = ['none', 'shared', 'exclusive'] as const;
export const NODE_ROLES = ['primary', 'replica'] as const;
export const SERVICE_ROLES = ['barman'] as const;
export const CLIENT_AUTH_METHODS = ['scram-sha-256', 'md5'] as const;

export const DEFAULT_BACKUP_SCHEDULE = '0 2 * * *';
export const DEFAULT_RETENTION = 'RECOVERY WINDOW OF 7 DAYS';

/** postgresql.conf overrides: name -> value; values win over tpa's tuning. */
const PostgresSettings = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/** How to reach an existing host (platform bare). Ignored by platforms that create machines. */
const HostAccess = {
  address: z.string().optional(),
  ssh_user: z.string().optional(),
  ssh_port: z.number().int().min(1).max(65535).optional(),
  /** path to the private key, relative to the cluster directory or absolute */
  ssh_key: z.string().optional(),
};

const MachineOverrides = {
  instance_type: z.string().optional(),
  volume_gb: z.number().int().min(1).max(65536).optional(),
};

export const NodeSchema = z.strictObject({
  name: z.string(),
  role: z.enum(NODE_ROLES),
  upstream: z.string().optional(),
  ...MachineOverrides,
  ...HostAccess,
  postgres_settings: PostgresSettings.optional(),
  /** repmgr priority (higher is promoted first; 0 never); default 100 minus the node's position */
  failover_priority: z.number().int().min(0).max(1000).optional(),
  /**
   * the node's id in its cluster's failover manager; default its position in `nodes` plus one.
   * tpa remove-node writes it for the nodes after the removed one, whose positions move.
   */
  node_id: z.number().int().min(1).max(2147483647).optional(),
});

/** repmgr's own options, for clusters with failover_manager: repmgr (defaults in the component) */
const RepmgrSettings = z.strictObject({
  monitoring_history: z.boolean().optional(),
});

/**
 * When a replica takes over and when a cut-off primary fences itself (defaults and the
 * derivation in the failover manager: failover/repmgr/timing.ts; 9 keeps fencing first and outlasts repmgr's consensus window).
 */
const FailoverSettings = z.strictObject({
  /** seconds an unreachable primary is given before a replica is promoted */
  timeout: z.number().int().min(9).max(600).optional(),
  /** a primary with fewer standbys connected than this, and no other node reachable, stops; 0: never */
  min_standbys: z.number().int().min(0).max(100).optional(),
});

export const ClusterSchema = z.strictObject({
  name: z.string(),
  architecture: z.enum(ARCHITECTURES).default('M1'),
  failover_manager: z.enum(FAILOVER_MANAGERS).default(DEFAULT_FAILOVER_MANAGER),
  durability: z.enum(DURABILITIES).default('async'),
  pooler: z.enum(POOLERS).default(DEFAULT_POOLER),
  /** name of the barman service that backs this cluster up; defaults to the group's only one */
  backup_server: z.string().optional(),
  /** false: never backed up, whatever backup.mode says (e.g. the temporary cluster of a restore drill) */
  backups: z.boolean().optional(),
  postgres_settings: PostgresSettings.optional(),
  /** this cluster's PostgreSQL package version, over postgres.package_version (tpa upgrade --cluster) */
  postgres_package_version: z.string().optional(),
  repmgr: RepmgrSettings.optional(),
  failover: FailoverSettings.optional(),
  nodes: z.array(NodeSchema).min(1),
});

export const ServiceSchema = z.strictObject({
  name: z.string(),
  role: z.enum(SERVICE_ROLES),
  ...MachineOverrides,
  ...HostAccess,
});

export const ClusterGroupSchema = z.strictObject({
  name: z.string(),
  platform: z.enum(PLATFORMS).default('lxc'),
  postgres: z
    .strictObject({
      version: z.number().int().default(15),
      /** the Debian package version of the server, client and libpq (e.g. 15.18-0+deb12u1); tpa upgrade moves it */
      package_version: z.string().optional(),
      settings: PostgresSettings.default({}),
    })
    .prefault({}),
  defaults: z
    .strictObject({
      instance_type: z.string().optional(),
      volume_gb: z.number().int().min(1).max(65536).default(20),
    })
    .prefault({}),
  access: z
    .strictObject({
      /** who may connect to postgres; empty means anywhere (0.0.0.0/0 and ::/0) */
      client_cidrs: z.array(z.string()).default([]),
      /** the customer's SSH public keys; a key pair is generated when empty */
      ssh_authorized_keys: z.array(z.string()).default([]),
      /** scram-sha-256 unless a legacy client needs md5 (seed 000) */
      client_auth: z.enum(CLIENT_AUTH_METHODS).default('scram-sha-256'),
      /** admin user tpa logs in as on machines it creates */
      admin_user: z.string().default('root'),
    })
    .prefault({}),
  backup: z
    .strictObject({
      mode: z.enum(BACKUP_MODES).default('none'),
      schedule: z.string().default(DEFAULT_BACKUP_SCHEDULE),
      retention: z.string().default(DEFAULT_RETENTION),
    })
    .prefault({}),
  lxc: z
    .strictObject({
      /** IPv4 subnet for the group's bridge; chosen automatically when absent */
      subnet: z.string().optional(),
    })
    .optional(),
  aws: z
    .strictObject({
      region: z.string().default('eu-west-1'),
    })
    .optional(),
  /** Monthly prices for platforms without a price table (lxc, bare): instance type -> USD, and USD per GB of volume. */
  prices: z
    .strictObject({
      instances: z.record(z.string(), z.number().min(0)).default({}),
      volume_gb_month: z.number().min(0).default(0),
    })
    .optional(),
  clusters: z.array(ClusterSchema).min(1),
  services: z.array(ServiceSchema).default([]),
});

export type NodeConfig = z.infer<typeof NodeSchema>;
export type ClusterConfig = z.infer<typeof ClusterSchema>;
export type ServiceConfig = z.infer<typeof ServiceSchema>;
export type ClusterGroupConfig = z.infer<typeof ClusterGroupSchema>;
export type ClusterGroupInput = z.input<typeof ClusterGroupSchema>;
export type Platform = (typeof PLATFORMS)[number];
