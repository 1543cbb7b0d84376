/**
 * The flat list of machines a group needs, with every default resolved. Platforms,
 * inventory and plans work from this, never from raw config.
 */
import type { ClusterGroupConfig, Platform } from './schema.ts';
import { DEFAULT_INSTANCE_TYPE, INSTANCE_TYPES, type InstanceSize } from './instance-types.ts';

export interface HostSpec {
  name: string;
  /** postgres nodes belong to a cluster; services (barman) do not */
  kind: 'postgres' | 'barman';
  cluster?: string;
  role: 'primary' | 'replica' | 'barman';
  upstream?: string;
  instanceType: string;
  size: InstanceSize;
  volumeGb: number;
  /** for bare hosts: how to reach them */
  address?: string;
  sshUser?: string;
  sshPort?: number;
  sshKey?: string;
}

export function hostSpecs(config: ClusterGroupConfig): HostSpec[] {
  const platform: Platform = config.platform;
  const defaultType = config.defaults.instance_type ?? DEFAULT_INSTANCE_TYPE[platform];
  const sizeOf = (t: string): InstanceSize => INSTANCE_TYPES[platform][t] ?? { cpus: 1, memoryMb: 1024 };
  const access = (h: { address?: string; ssh_user?: string; ssh_port?: number; ssh_key?: string }) => ({
    ...(h.address !== undefined ? { address: h.address } : {}),
    ...(h.ssh_user !== undefined ? { sshUser: h.ssh_user } : {}),
    ...(h.ssh_port !== undefined ? { sshPort: h.ssh_port } : {}),
    ...(h.ssh_key !== undefined ? { sshKey: h.ssh_key } : {}),
  });
  const hosts: HostSpec[] = [];
  for (const cluster of config.clusters) {
    for (const node of cluster.nodes) {
      const instanceType = node.instance_type ?? defaultType;
      hosts.push({
        name: node.name,
        kind: 'postgres',
        cluster: cluster.name,
        role: node.role,
        ...(node.upstream !== undefined ? { upstream: node.upstream } : {}),
        instanceType,
        size: sizeOf(instanceType),
        volumeGb: node.volume_gb ?? config.defaults.volume_gb,
        ...access(node),
      });
    }
  }
  for (const svc of config.services) {
    const instanceType = svc.instance_type ?? defaultType;
    hosts.push({
      name: svc.name,
      kind: 'barman',
      role: 'barman',
      instanceType,
      size: sizeOf(instanceType),
      volumeGb: svc.volume_gb ?? config.defaults.volume_gb,
      ...access(svc),
    });
  }
  return hosts;
}
