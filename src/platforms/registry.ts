/**
 * Platform name -> Platform. Adding a platform is adding its folder and one line here;
 * nothing else in tpa switches on the platform's name.
 */
import { UsageError } from '../core/errors.ts';
import type { ClusterGroupConfig } from '../model/schema.ts';
import { barePlatform } from './bare/index.ts';
import { lxcPlatform } from './lxc/index.ts';
import type { Platform } from './platform.ts';

type PlatformName = ClusterGroupConfig['platform'];

const platforms: Partial<Record<PlatformName, Platform>> = {
  lxc: lxcPlatform,
  bare: barePlatform,
};

/** Registers a platform (platform modules other than lxc call this from their own index). */
export function registerPlatform(platform: Platform): void {
  platforms[platform.name] = platform;
}

export function getPlatform(name: PlatformName): Platform {
  const p = platforms[name];
  if (!p) {
    const known = Object.keys(platforms).join(', ');
    throw new UsageError(`platform ${name} is not available in this version of tpa`, `available: ${known}`);
  }
  return p;
}

export function availablePlatforms(): PlatformName[] {
  return Object.keys(platforms) as PlatformName[];
}
