/**
 * Platforms create, adopt and destroy machines. Adding one is adding a folder that
 * exports a Platform; nothing else switches on the platform's name.
 */
import type { EventSink } from '../core/events.ts';
import type { ClusterGroupConfig } from '../model/schema.ts';
import type { HostSpec } from '../model/hosts.ts';

export interface InventoryHost {
  name: string;
  kind: HostSpec['kind'];
  cluster?: string;
  role: HostSpec['role'];
  upstream?: string;
  address: string;
  sshUser: string;
  sshPort: number;
  /** private key path, relative to the cluster directory or absolute */
  sshKey?: string;
  instanceType: string;
  cpus: number;
  memoryMb: number;
  volumeGb: number;
  /** the platform's own id (container name, instance id) */
  platformId?: string;
}

export interface Inventory {
  group: string;
  platform: ClusterGroupConfig['platform'];
  /** platform-wide facts (bridge, subnet, region, ...) */
  network?: Record<string, string>;
  hosts: InventoryHost[];
}

/**
 * Packages deploy will install on the group's machines, which a platform that builds machine
 * images may install ahead (lxc does; bare and aws ignore it). `files` are written before the
 * packages are installed; units of `quietUnits` the packages enable are left disabled (deploy
 * enables them where they belong).
 */
export interface Preinstall {
  packages: string[];
  files: { path: string; content: string; mode: number }[];
  quietUnits: string[];
}

export interface PlatformContext {
  /** absolute path of the cluster directory */
  dir: string;
  config: ClusterGroupConfig;
  hosts: HostSpec[];
  /** OpenSSH public keys to authorise for the admin user (customer's + generated) */
  authorizedKeys: string[];
  events: EventSink;
  preinstall?: Preinstall;
}

export interface ProvisionResult {
  inventory: Inventory;
  /** human-readable changes made; empty when nothing changed */
  changes: string[];
}

export type FaultAction =
  'poweroff' | 'start' | 'kill' | 'freeze' | 'thaw' | 'isolate' | 'partition' | 'heal';

export interface FaultInjector {
  poweroff(node: string): Promise<void>;
  start(node: string): Promise<void>;
  /** kill -9 a process by name on the node (e.g. postgres postmaster) */
  kill(node: string, process: string): Promise<void>;
  freeze(node: string): Promise<void>;
  thaw(node: string): Promise<void>;
  /** cut the node off from every other node (the host still reaches it where the platform allows) */
  isolate(node: string): Promise<void>;
  /** cut two nodes off from each other */
  partition(a: string, b: string): Promise<void>;
  /** undo every isolate/partition of the group */
  heal(): Promise<void>;
}

/** A group the platform still runs whose cluster directory is gone. */
export interface OrphanGroup {
  /** the platform's name for the group (lxc: its prefix) */
  id: string;
  group: string;
  /** the directory it was provisioned from */
  dir: string;
  machines: string[];
  why: string;
}

export interface Platform {
  readonly name: ClusterGroupConfig['platform'];
  /** check prerequisites; throws before anything is changed */
  preflight(ctx: PlatformContext): Promise<void>;
  provision(ctx: PlatformContext): Promise<ProvisionResult>;
  deprovision(ctx: PlatformContext): Promise<{ changes: string[] }>;
  /** present when the platform can inject faults */
  faults?(ctx: PlatformContext): FaultInjector;
  /** present when the platform can find groups whose directory is gone, and remove them */
  orphans?: {
    find(events: EventSink): Promise<OrphanGroup[]>;
    remove(orphan: OrphanGroup, events: EventSink): Promise<string[]>;
  };
}
