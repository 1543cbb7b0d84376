/**
 * A failover manager: what decides which node is the primary and promotes a replica when the
 * primary fails (repmgr today, Patroni next). Everything outside its folder asks it, through
 * failoverManagerOf(cluster) (registry.ts), instead of naming it: adding a manager is adding
 * a folder and a line in the registry.
 */
import type { Component } from '../component.ts';
import type { HbaRule } from '../postgres/hba-rule.ts';
import { PG_SOCKET_DIR, type PgPaths } from '../postgres/paths.ts';
import type { InventoryHost } from '../../platforms/platform.ts';
import type { ClusterConfig } from '../../model/schema.ts';
import type { Check, NodeObservation, Section } from '../../checks/kit.ts';

/** A role the postgres component creates on the primary, with the vault secret of its password. */
export interface PostgresRoleNeed {
  name: string;
  attributes: string[];
  secret: string;
}

/** A line of ~postgres/.pgpass: the OS user postgres logs in as `user` without a password on argv. */
export interface PgpassNeed {
  database: string;
  user: string;
  secret: string;
  /** the port the line is for: postgres's (5432) unless given */
  port?: number;
}

/** What a failover manager (or a pooler) needs from the postgres component. */
export interface PostgresNeeds {
  /** installed with the server, before its first restart (a preloaded library must exist) */
  packages(p: PgPaths): string[];
  /** appended to shared_preload_libraries */
  preloadLibraries: string[];
  /** postgresql.conf settings its timing relies on (config.yml may still override them) */
  settings: Record<string, string | number | boolean>;
  roles: PostgresRoleNeed[];
  databases: { name: string; owner: string }[];
  /** infrastructure rules of pg_hba.conf, given the cluster's postgres nodes */
  hbaRules(nodes: InventoryHost[]): HbaRule[];
  pgpass: PgpassNeed[];
}

/** A framed section of the observation script of `tpa test` / `tpa status` (checks/observe.ts). */
export interface ObserveSection {
  name: string;
  /** shell run as root; its stdout is the section's output */
  body: string;
}

/**
 * Where a start guard writes why it refused to start a server as a second primary. One path
 * for every manager, because status and test read it on every node whatever the cluster runs
 * (a node of a cluster without a guard simply has no such file).
 */
export const START_GUARD_MARKER = `${PG_SOCKET_DIR}/tpa-fenced`;

export interface FailoverManager {
  /** the value of clusters[].failover_manager */
  readonly name: string;
  /** its desired files, packages and services on each node (the deploy engine runs it) */
  readonly component?: Component;
  /** systemd units it runs on every postgres node, reported by status, test and info */
  units: string[];
  /** Debian packages it installs (their versions appear in `tpa info`) */
  packages(p: PgPaths): string[];
  postgres: PostgresNeeds;
  /** sections of `tpa test`'s observation (status does not ask for them) */
  observeSections(p: PgPaths): ObserveSection[];
  /**
   * Its own sections of a node's observation, read into the key it adds to NodeObservation;
   * nothing when they are absent (every manager is asked: the parser does not know the cluster).
   */
  readSections(sections: Record<string, Section>): Partial<NodeObservation>;
  /** the `tpa test` checks that judge this manager, in report order */
  checks: Check[];
  /** its daemon's unit: status shows its state, restore stops it */
  daemonUnit?: string;
  /**
   * Shell (root, every node) that stops automatic failover, and the one that starts it
   * again; restore in place pauses before it stops the servers (deploy resumes).
   */
  pause: string;
  resume: string;
  /**
   * Shell (root, on any running node of the cluster) that keeps every node's daemon from acting
   * on a failure while it goes on watching (a planned restart), and the one that lets it act
   * again. Unlike pause/resume the daemons keep running.
   */
  holdFailover?(p: PgPaths): { hold: string; release: string };
  /**
   * Shell (root, on a primary that was recovered from a backup) that forgets the node
   * records the backup carried: they describe the nodes as they were, and deploy registers
   * the nodes again.
   */
  forgetNodes: string;
  /**
   * What brings a fenced former primary back as a standby: run as root on that node with the
   * address of the primary now as its argument (the script the start guard names in its
   * message). Switchover is not declared yet: tpa has no switchover command to back it.
   */
  rejoinCommand?: string;
  /**
   * Shell (root, on a standby or a former primary that is not the primary of now) that stops
   * its server, moves its data directory aside (or removes it) and clones it afresh from the
   * primary of now, then starts it as a standby of that primary.
   */
  rebuildCommand?(input: RebuildInput): string;
  /** what `tpa switchover` runs on the nodes; without it, the manager has no switchover */
  switchover?: SwitchoverSteps;
  /**
   * Shell (root) run on the upstream of a node that is gone for good (tpa remove-node, after
   * its server stopped): forgets the node's record and drops the replication slot it used there.
   */
  forgetNode?(p: PgPaths, cluster: ClusterConfig, nodeName: string): string;
  /**
   * With fewer standbys streaming from it than this, a running primary of the cluster fences
   * itself (stops) once no other node answers: what remove-node and fork must not cause.
   */
  fencesBelow?(cluster: ClusterConfig): number;
}

/**
 * A switchover's manager-specific steps, shell run as root. tpa pauses the manager and the
 * poolers, stops the old primary (a clean shutdown sends every WAL record to the standbys) and
 * waits for the target to replay all of it before `promote`; afterwards the old primary comes
 * back through rejoinCommand and the other standbys run `follow`.
 */
export interface SwitchoverSteps {
  /** on the target: promote it, returning once it takes writes (clients resume right after) */
  promote(p: PgPaths): string;
  /** on the target, after the clients resumed: record it as the primary in the manager's metadata */
  record(p: PgPaths): string;
  /** on every other standby: follow the new primary */
  follow(p: PgPaths, cluster: ClusterConfig, newPrimaryName: string): string;
}

export interface RebuildInput {
  paths: PgPaths;
  /** position of the node in its cluster, as the manager numbers nodes */
  nodeName: string;
  nodeAddress: string;
  cluster: ClusterConfig;
  primaryName: string;
  primaryAddress: string;
  /** keep the old data directory at this path instead of removing it */
  keepAsideAt?: string;
}

/** `failover_manager: none` (single-node clusters): no manager, nothing asked of postgres. */
export const noFailoverManager: FailoverManager = {
  name: 'none',
  units: [],
  packages: () => [],
  postgres: {
    packages: () => [],
    preloadLibraries: [],
    settings: {},
    roles: [],
    databases: [],
    hbaRules: () => [],
    pgpass: [],
  },
  observeSections: () => [],
  readSections: () => ({}),
  checks: [],
  pause: '',
  resume: '',
  forgetNodes: '',
};
