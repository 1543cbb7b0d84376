/** Instance sizes per platform. lxc sizes are cgroup limits; aws sizes are EC2 types. */

export interface InstanceSize {
  cpus: number;
  memoryMb: number;
}

export const LXC_INSTANCE_TYPES: Record<string, InstanceSize> = {
  small: { cpus: 1, memoryMb: 1024 },
  medium: { cpus: 2, memoryMb: 2048 },
  large: { cpus: 2, memoryMb: 4096 },
};

export const AWS_INSTANCE_TYPES: Record<string, InstanceSize> = {
  't3.medium': { cpus: 2, memoryMb: 4096 },
  't3.large': { cpus: 2, memoryMb: 8192 },
  'm6i.large': { cpus: 2, memoryMb: 8192 },
  'm6i.xlarge': { cpus: 4, memoryMb: 16384 },
  'm6i.2xlarge': { cpus: 8, memoryMb: 32768 },
  'r6i.large': { cpus: 2, memoryMb: 16384 },
  'r6i.xlarge': { cpus: 4, memoryMb: 32768 },
};

/** bare hosts are what they are; the size names only steer postgres tuning when facts are missing. */
export const BARE_INSTANCE_TYPES: Record<string, InstanceSize> = LXC_INSTANCE_TYPES;

export const INSTANCE_TYPES: Record<'lxc' | 'bare' | 'aws', Record<string, InstanceSize>> = {
  lxc: LXC_INSTANCE_TYPES,
  bare: BARE_INSTANCE_TYPES,
  aws: AWS_INSTANCE_TYPES,
};

export const DEFAULT_INSTANCE_TYPE: Record<'lxc' | 'bare' | 'aws', string> = {
  lxc: 'small',
  bare: 'small',
  aws: 't3.medium',
};
