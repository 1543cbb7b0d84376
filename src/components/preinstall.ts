/**
 * What a platform that builds machine images may install ahead of deploy on every machine of
 * a group: the Debian packages deploy installs on the group's postgres nodes, and the files
 * that must be in place before they are installed. Deploy still declares every package and
 * file; on a machine that has them it simply finds nothing to do. Backup servers' packages
 * are left out (barman's cron job would run every minute on every node).
 */
import type { ClusterGroupConfig } from '../model/schema.ts';
import type { Preinstall } from '../platforms/platform.ts';
import { COMMON_PACKAGES } from './common/component.ts';
import { failoverManagerOf } from './failover/registry.ts';
import { poolerOf } from './pooler/registry.ts';
import { CREATECLUSTER_CONF, CREATECLUSTER_CONTENT } from './postgres/component.ts';
import { pgPathsFor } from './postgres/paths.ts';

export function preinstallFor(config: ClusterGroupConfig): Preinstall {
  const p = pgPathsFor(config);
  const packages = new Set<string>(COMMON_PACKAGES);
  const quietUnits = new Set<string>();
  packages.add(p.package);
  for (const cluster of config.clusters) {
    const manager = failoverManagerOf(cluster);
    const pooler = poolerOf(cluster);
    for (const name of [...manager.packages(p), ...manager.postgres.packages(p), ...pooler.packages(p)])
      packages.add(name);
    if (manager.name !== 'none') packages.add('sudo');
    // a pooler started by its package would run Debian's default configuration on nodes
    // that may not even use it: deploy starts it where it belongs
    for (const unit of pooler.units) quietUnits.add(unit);
    // likewise the failover manager's daemon: started before deploy writes its configuration,
    // it would fail and restart every few seconds until then
    for (const unit of manager.units) quietUnits.add(unit);
  }
  return {
    packages: [...packages].sort(),
    files: [{ path: CREATECLUSTER_CONF, content: CREATECLUSTER_CONTENT, mode: 0o644 }],
    quietUnits: [...quietUnits].sort(),
  };
}
