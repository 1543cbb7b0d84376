/**
 * A component is one piece of software (common OS setup, postgres, repmgr, pgbouncer,
 * barman): one folder that declares, per host, its desired resources by phase, the facts
 * it needs probed, and its health checks.
 *
 * The contract with the engine (src/engine):
 * - desired() is pure and is called several times per deploy: first with ctx.facts = {}
 *   (to learn what to ask the hosts), then with the gathered facts, and again before each
 *   phase with facts re-gathered from the hosts earlier phases changed. It must work with
 *   a host's facts missing.
 * - Within a phase, resources apply in registry order, then in the order returned. One
 *   component owns a path/package/unit/setting/role/database/action id; two components may
 *   declare the same one only identically.
 * - Facts are gathered in one round trip per host: every package, file, directory, service
 *   and pg-setting named by a resource is looked at; probes() add shell commands (run as
 *   root by sh -c, stdout kept with trailing newlines removed, exit code in probeExitCodes).
 *   Probes must be read-only and fast (prefer /usr/lib/postgresql/<v>/bin/psql to Debian's
 *   Perl wrapper psql).
 * - Actions: needed(facts) decides; the command must be safe to re-run after a failure;
 *   secrets go in stdin (and redact); commands that drop, promote, format or remove
 *   /var/lib/postgresql are refused. afterHandlers runs the handlers notified so far on the
 *   host first (e.g. a restart that applies listen_addresses).
 * - Handlers are `restart:<unit>` / `reload:<unit>` (systemd units), run once per host at
 *   the end of the phase, non-primaries before primaries; a primary's restart in phase
 *   postgres-primary waits for the replicas' when they are running.
 */
import type { ClusterGroupConfig } from '../model/schema.ts';
import type { Inventory, InventoryHost } from '../platforms/platform.ts';
import type { HostFacts, PhasedResources } from '../plan/types.ts';

export type { PhasedResources } from '../plan/types.ts';

/** Everything a component may read. Pure data: no I/O from inside a component's desired(). */
export interface DeployContext {
  config: ClusterGroupConfig;
  inventory: Inventory;
  /** plaintext secrets by name (passwords, CA key); components must mark files holding them secret */
  secrets: Record<string, string>;
  /** facts of every host, so a replica can see its upstream */
  facts: Record<string, HostFacts>;
  /**
   * The hosts this deploy works on, when not all of them (tpa fork: the cluster a node leaves,
   * before that node is promoted). The others are neither asked nor changed; components still
   * see every host of the inventory (peer lists come from it).
   */
  only?: readonly string[];
}

/** the inventory's hosts a deploy works on (DeployContext.only) */
export function hostsInScope(ctx: Pick<DeployContext, 'inventory' | 'only'>): InventoryHost[] {
  const only = ctx.only;
  return only ? ctx.inventory.hosts.filter((h) => only.includes(h.name)) : ctx.inventory.hosts;
}

export interface HealthCheck {
  name: string;
  /** shell command run on the host; exit 0 = healthy */
  command: string;
}

export interface Component {
  readonly name: string;
  /** does this component run on that host at all */
  appliesTo(host: InventoryHost, ctx: DeployContext): boolean;
  desired(host: InventoryHost, ctx: DeployContext): PhasedResources[];
  /** extra fact probes: name -> shell command whose stdout is kept in facts.probes[name] */
  probes?(host: InventoryHost, ctx: DeployContext): Record<string, string>;
  checks?(host: InventoryHost, ctx: DeployContext): HealthCheck[];
  /**
   * Shell (root) the engine runs after it restarted `unit` on the host: returns once the
   * service is back (postgres: accepting connections, a standby streaming again), exits
   * non-zero when it is not within its own bound. The next host's restart waits for it.
   */
  afterRestart?(host: InventoryHost, unit: string, ctx: DeployContext): string | undefined;
  /**
   * What runs on the host around the engine's restart of `unit` there: `before` first, `after`
   * once the restart is over whatever it did (a failure of either is a warning). The failover
   * manager pauses while a primary restarts, so that a slow restart is not taken for a failure.
   */
  restartGuard?(host: InventoryHost, unit: string, ctx: DeployContext): RestartGuard | undefined;
}

export interface RestartGuard {
  /** what it is, for the report: "repmgrd paused" */
  what: string;
  before: string;
  after: string;
}
