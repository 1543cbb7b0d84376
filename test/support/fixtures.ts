/**
 * Fixtures shared by the unit tests: inventory hosts as lxc provision records them (a small
 * node reached as root on port 22), the group most tests start from — group acme, cluster
 * main with main-1 primary, main-2 replica and main-3 cascading from main-2 — and the facts
 * of an empty host.
 * In test/support/ so production code cannot reach it (src/architecture.test.ts checks) and
 * the CLI bundle never carries it.
 */
import { ClusterGroupSchema, type ClusterGroupInput } from '../../src/model/schema.ts';
import { mainCluster } from '../../src/model/testdata/fixtures.ts';
import type { HostFacts } from '../../src/plan/types.ts';
import type { Inventory, InventoryHost } from '../../src/platforms/platform.ts';
import type { StatusReport, StatusRow } from '../../src/commands/status/index.ts';

/** the addresses of main-1..3, as lxc gives them */
export const MAIN_ADDRESSES: Record<string, string> = {
  'main-1': '10.0.3.11',
  'main-2': '10.0.3.12',
  'main-3': '10.0.3.13',
};

export type TestHostSpec = Pick<InventoryHost, 'name' | 'address'> & Partial<InventoryHost>;

/**
 * An inventory host. Unless the spec says otherwise: kind barman for role barman, else
 * postgres; a postgres host is a primary in cluster main, a barman host has role barman and
 * no cluster. A field the spec gives as undefined is left out (e.g. `cluster: undefined`).
 */
export function testHost({ name, address, ...over }: TestHostSpec): InventoryHost {
  const kind = over.kind ?? (over.role === 'barman' ? 'barman' : 'postgres');
  const postgres = kind === 'postgres';
  // every field, in the order provision writes them, so a host serialises the same way
  const host: InventoryHost = {
    name,
    kind,
    cluster: postgres ? 'main' : undefined,
    role: postgres ? 'primary' : 'barman',
    upstream: undefined,
    address,
    sshUser: 'root',
    sshPort: 22,
    sshKey: undefined,
    instanceType: 'small',
    cpus: 1,
    memoryMb: 1024,
    volumeGb: 20,
    platformId: undefined,
    ...over,
  };
  return Object.fromEntries(Object.entries(host).filter(([, v]) => v !== undefined)) as InventoryHost;
}

/** an lxc inventory of group acme */
export function testInventory(hosts: InventoryHost[]): Inventory {
  return { group: 'acme', platform: 'lxc', hosts };
}

/** group acme with cluster main only, schema defaults for the rest, then `over` */
export function threeNodeConfig(over: Partial<ClusterGroupInput> = {}) {
  return ClusterGroupSchema.parse({ name: 'acme', clusters: [mainCluster()], ...over });
}

/** the inventory of threeNodeConfig() at MAIN_ADDRESSES, then `extra` */
export function threeNodeInventory(extra: InventoryHost[] = []): Inventory {
  const main = (name: string, over: Partial<InventoryHost> = {}) =>
    testHost({ name, address: MAIN_ADDRESSES[name]!, ...over });
  return testInventory([
    main('main-1'),
    main('main-2', { role: 'replica' }),
    main('main-3', { role: 'replica', upstream: 'main-2' }),
    ...extra,
  ]);
}

/** the facts of a reachable host with nothing on it, then `over` */
export function testFacts(host: string, over: Partial<HostFacts> = {}): HostFacts {
  return {
    host,
    reachable: true,
    packages: {},
    files: {},
    directories: {},
    services: {},
    probes: {},
    ...over,
  };
}

/**
 * A `tpa status` row of threeNodeConfig() running as configured: main-1 the primary, main-2
 * streaming from it, main-3 cascading from main-2; then `extra`.
 */
export function statusRow(node: string, extra: Partial<StatusRow> = {}): StatusRow {
  const primary = node === 'main-1';
  return {
    cluster: 'main',
    node,
    address: `10.0.0.${node.slice(-1)}`,
    configuredRole: primary ? 'primary' : 'replica',
    role: primary ? 'primary' : 'replica',
    state: 'running',
    ...(primary ? {} : { receiver: 'streaming', upstream: node === 'main-3' ? 'main-2' : 'main-1' }),
    ...extra,
  };
}

/** `tpa status` of threeNodeConfig() with main-1 the primary; these rows or all three as configured */
export function statusReport(
  rows = [statusRow('main-1'), statusRow('main-2'), statusRow('main-3')],
): StatusReport {
  return { group: 'acme', primaries: { main: 'main-1' }, nodes: rows };
}
