/**
 * A component is one piece of software (common OS setup, postgres, repmgr, pgbouncer,
 * barman): one folder that declares, per host, its desired resources by phase, the facts
 * it needs probed, and its health checks.
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
}
