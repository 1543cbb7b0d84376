/** Configs for tests: a valid group with no warnings, and a way to break one thing in it. */
import { ClusterGroupSchema, type ClusterGroupConfig, type ClusterGroupInput } from '../schema.ts';

export const ED25519_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+5Y2BbwfT0NVCpZxVcm6lTGOemlAaEfdH4boSCCped alice@laptop';

/** cluster main: main-1 primary, main-2 replica, main-3 replica of main-2 (a new object each call) */
export function mainCluster(): ClusterGroupInput['clusters'][number] {
  return {
    name: 'main',
    nodes: [
      { name: 'main-1', role: 'primary' },
      { name: 'main-2', role: 'replica' },
      { name: 'main-3', role: 'replica', upstream: 'main-2' },
    ],
  };
}

/** platform lxc, cluster main (main-1 primary, main-2 and main-3 replicas), shared barman backup-1 */
export function validInput(): ClusterGroupInput {
  return {
    name: 'acme',
    platform: 'lxc',
    postgres: { version: 15 },
    access: { client_cidrs: ['203.0.113.0/24'], ssh_authorized_keys: [ED25519_KEY] },
    backup: { mode: 'shared' },
    clusters: [mainCluster()],
    services: [{ name: 'backup-1', role: 'barman' }],
  };
}

/** validInput() changed by `edit`, parsed by the schema (defaults filled in). */
export function config(
  edit: (c: ClusterGroupInput & Required<Pick<ClusterGroupInput, 'services'>>) => void = () => {},
): ClusterGroupConfig {
  const input = validInput() as ClusterGroupInput & Required<Pick<ClusterGroupInput, 'services'>>;
  edit(input);
  return ClusterGroupSchema.parse(input);
}

/** A second cluster for multi-cluster cases. */
export function otherCluster(name = 'other', nodes = 2): ClusterGroupInput['clusters'][number] {
  return {
    name,
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `${name}-${i + 1}`,
      role: i === 0 ? ('primary' as const) : ('replica' as const),
    })),
  };
}
