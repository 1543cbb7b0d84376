/**
 * Which operating system each platform gives its hosts, and which PostgreSQL major versions
 * that system's own packages offer (tpa installs PostgreSQL from the distribution).
 */
import type { Platform } from './schema.ts';

export type Distribution = 'debian-12';

export const PLATFORM_DISTRIBUTION: Record<Platform, Distribution> = {
  lxc: 'debian-12',
  bare: 'debian-12',
  aws: 'debian-12',
};

export const DISTRIBUTION_LABEL: Record<Distribution, string> = {
  'debian-12': 'Debian 12 (bookworm)',
};

export const DISTRIBUTION_POSTGRES_VERSIONS: Record<Distribution, readonly number[]> = {
  'debian-12': [15],
};

export function postgresVersionsFor(platform: Platform): readonly number[] {
  return DISTRIBUTION_POSTGRES_VERSIONS[PLATFORM_DISTRIBUTION[platform]];
}
