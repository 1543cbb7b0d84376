/**
 * A plan is pure data: per host, the changes that bring the host from its facts to the
 * desired state. Components describe desired state as Resources; plan/ diffs them against
 * Facts; engine/ applies the resulting Changes in phases.
 */

/** Ordered deploy phases. Hosts run in parallel within a phase; phases run in this order. */
export const PHASES = [
  'common', // OS: packages, locale, sysctl, admin user, /etc/hosts
  'postgres-primary', // packages, config, initdb, roles on the primary
  'postgres-replicas', // clone replicas, in upstream order (depth 1, then 2, ...)
  'failover-manager', // repmgr register / repmgrd, or patroni
  'pooler', // pgbouncer
  'backups', // barman
  'client-access', // client pg_hba rules and pooler routes, enabled last (seed 003)
  'checks', // health checks before declaring success
] as const;
export type Phase = (typeof PHASES)[number];

/**
 * A handler runs once at the end of a phase if any change notified it. The part after the
 * colon is a systemd unit: `restart:U` runs `systemctl restart U`, `reload:U` runs
 * `systemctl reload U`, each only when U is active (a stopped unit reads its configuration
 * when it starts). A restart of U makes a reload of U redundant, and a
 * service change that starts U later in the same phase cancels what was notified before it.
 */
export type HandlerName = `${'restart' | 'reload'}:${string}`;

export type Resource =
  | { kind: 'package'; name: string; version?: string }
  | {
      kind: 'file';
      path: string;
      content: string;
      mode: number;
      owner: string;
      group: string;
      /** never show the content or a diff (passwords, keys) */
      secret?: boolean;
      notify?: HandlerName[];
      /**
       * the unit this file configures when its changes notify nothing themselves (postgres
       * settings: the pg-setting resources pick reload or restart): a failed restart of that
       * unit puts the file back (engine/rollback.ts)
       */
      configures?: string;
    }
  | { kind: 'directory'; path: string; mode: number; owner: string; group: string }
  | { kind: 'service'; name: string; state: 'running' | 'stopped'; enabled: boolean }
  | {
      /**
       * One postgres setting. The engine decides reload vs restart from pg_settings.context
       * of the running server, not from a guess.
       */
      kind: 'pg-setting';
      name: string;
      value: string;
      /** the server's systemd unit (e.g. postgresql@15-main): notified with reload or restart */
      unit?: string;
    }
  | {
      /** a role with a SCRAM verifier computed locally; password never sent in clear */
      kind: 'pg-role';
      name: string;
      verifier: string;
      attributes: string[]; // e.g. ['LOGIN', 'REPLICATION', 'SUPERUSER']
      inRoles?: string[];
    }
  | { kind: 'pg-database'; name: string; owner: string }
  | {
      /**
       * A command that changes state, run only when `needed` says so from facts. It must be
       * safe to re-run after a failure (e.g. initdb only into an empty directory).
       */
      kind: 'action';
      id: string;
      description: string;
      command: string;
      /** secrets fed on stdin, never in the command line */
      stdin?: string;
      /** strings to redact from output */
      redact?: string[];
      /** evaluated on the host's facts; true = run it */
      needed: (facts: HostFacts) => boolean;
      notify?: HandlerName[];
      /** default 10 minutes */
      timeoutMs?: number;
      /**
       * Run the handlers this host's earlier changes of the phase notified (e.g. the restart
       * that applies listen_addresses) right before this action, instead of at the end of the
       * phase. Only when the action runs; those handlers then skip the cluster-wide order.
       */
      afterHandlers?: boolean;
      /**
       * A unit this action starts from stopped (set only when the facts say it is stopped):
       * like a service start, it drops the restarts and reloads of that unit notified
       * earlier in the phase, since the unit starts with the new configuration anyway.
       */
      starts?: string;
    };

export type ResourceKind = Resource['kind'];

/** What one host looks like now, gathered in as few round trips as possible. */
export interface HostFacts {
  host: string;
  reachable: boolean;
  /** why the host could not be reached (reachable: false) */
  unreachableReason?: string;
  /** dpkg package -> installed version */
  packages: Record<string, string>;
  /** path -> sha256, mode, owner, group (absent when the file does not exist) */
  files: Record<string, { sha256: string; mode: number; owner: string; group: string; content?: string }>;
  directories: Record<string, { mode: number; owner: string; group: string }>;
  /** unit -> state */
  services: Record<string, { active: boolean; enabled: boolean }>;
  /** present when postgres answers */
  postgres?: {
    running: boolean;
    inRecovery: boolean;
    version: string;
    settings: Record<
      string,
      {
        setting: string;
        context: string;
        pendingRestart: boolean;
        /** pg_settings.unit (kB, 8kB, MB, ms, s, min, ...), for comparing '1GB' with '131072' */
        unit?: string | null;
        /** bool, integer, real, string, enum */
        vartype?: string;
        sourcefile?: string | null;
      }
    >;
    roles: Record<string, { verifier: string | null; attributes: string[]; memberOf?: string[] }>;
    databases: string[];
    /** database -> owner */
    databaseOwners?: Record<string, string>;
    /** sender_host of pg_stat_wal_receiver on a streaming replica */
    upstream?: string | null;
    dataDirectory?: string;
    /** pg_control_system().system_identifier: the same on a primary and its replicas */
    systemIdentifier?: string;
    /**
     * a primary's current WAL file; its first 8 hex digits are the timeline it writes on
     * (components/topology.ts parsePrimaryState)
     */
    walFile?: string;
  };
  /** component-specific probes: name -> raw stdout (trailing newlines removed) */
  probes: Record<string, string>;
  /** probe name -> its exit code */
  probeExitCodes?: Record<string, number>;
  /** handlers an earlier, failed deploy notified but could not run (run by the next deploy) */
  pendingHandlers?: HandlerName[];
}

/** A component's resources for one phase, in the order they are applied. */
export interface PhasedResources {
  phase: Phase;
  resources: Resource[];
}

/** Everything the differ needs about one host: its place in the cluster and its desired state. */
export interface DesiredHost {
  host: string;
  role?: 'primary' | 'replica' | 'barman';
  cluster?: string;
  /** configured upstream node (replicas) */
  upstream?: string;
  address?: string;
  /** merged over all components, in component order within each phase */
  phases: PhasedResources[];
}

export interface Change {
  host: string;
  phase: Phase;
  /** human-readable, e.g. "install postgresql-15", "update /etc/postgresql/15/main/pg_hba.conf" */
  summary: string;
  resource: Resource;
  /** unified diff for files (empty for secret files) */
  diff?: string;
  /** handlers this change notifies (for pg-setting: reload or restart from pg_settings.context) */
  notify?: HandlerName[];
}

export interface HostPlan {
  host: string;
  changes: Change[];
}

export interface Plan {
  hosts: HostPlan[];
  /** refusals: changes that cannot be applied safely (role change, cycle) */
  refusals: { host?: string; message: string }[];
  /** things a user should know that do not stop a deploy */
  warnings?: { host?: string; message: string }[];
}
