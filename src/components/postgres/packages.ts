/**
 * Which PostgreSQL packages a node runs, and at which version. The server, its client and libpq
 * come from one Debian source package: a pin (postgres.package_version, or a cluster's own
 * postgres_package_version) holds the three at the same version, so a minor version moves for
 * all of them at once (tpa upgrade). Without a pin apt installs the newest the mirror has.
 */
import type { ClusterConfig, ClusterGroupConfig } from '../../model/schema.ts';
import type { Resource } from '../../plan/types.ts';
import type { PgPaths } from './paths.ts';

export type PackageResource = Extract<Resource, { kind: 'package' }>;

/** the packages built from PostgreSQL's own source, which move together */
export function serverPackages(p: PgPaths): string[] {
  return [p.package, `postgresql-client-${p.version}`, 'libpq5'];
}

export function pinnedVersion(config: ClusterGroupConfig, cluster: ClusterConfig): string | undefined {
  return cluster.postgres_package_version ?? config.postgres.package_version;
}

/** The server's packages as deploy declares them: pinned together, or just the server unpinned. */
export function serverPackageResources(
  p: PgPaths,
  config: ClusterGroupConfig,
  cluster: ClusterConfig,
): PackageResource[] {
  const version = pinnedVersion(config, cluster);
  if (version === undefined) return [{ kind: 'package', name: p.package }];
  return serverPackages(p).map((name) => ({ kind: 'package', name, version }));
}
