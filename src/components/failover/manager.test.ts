import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noFailoverManager } from './manager.ts';
import { allFailoverManagers, failoverManagerOf } from './registry.ts';
import { pgPaths } from '../postgres/paths.ts';
import { pgpassContent, roleSpecs } from '../postgres/roles.ts';
import { infraHbaRules } from '../postgres/hba.ts';
import { nodeSettings } from '../postgres/settings.ts';
import { groupConfig, groupInventory, groupSecrets } from '../../../test/support/postgres-fixtures.ts';

void test('failover_manager none asks nothing of postgres and runs nothing', () => {
  const none = failoverManagerOf({ failover_manager: 'none' });
  assert.equal(none, noFailoverManager);
  assert.deepEqual(none.postgres.packages(pgPaths(15)), []);
  assert.deepEqual(none.postgres.preloadLibraries, []);
  assert.deepEqual(none.postgres.roles, []);
  assert.deepEqual(none.postgres.databases, []);
  assert.deepEqual(none.postgres.hbaRules(groupInventory().hosts), []);
  assert.deepEqual(none.postgres.pgpass, []);
  assert.deepEqual(none.units, []);
  assert.deepEqual(none.checks, []);
  assert.deepEqual(none.observeSections(pgPaths(15)), []);
  assert.equal(none.pause, '');
  assert.equal(none.forgetNodes, '');
  assert.equal(none.component, undefined);
});

void test('what postgres renders follows the manager: the repmgr library, role, hba rules and .pgpass line, or none of it', () => {
  const inv = groupInventory();
  const host = inv.hosts[0]!;
  const base = groupConfig();
  for (const fm of ['repmgr', 'none'] as const) {
    // not validated: only the manager differs (none is for single-node clusters)
    const config = { ...base, clusters: [{ ...base.clusters[0]!, failover_manager: fm }] };
    const cluster = config.clusters[0]!;
    const has = fm === 'repmgr';
    assert.equal(
      roleSpecs(cluster, config).some((r) => r.name === 'repmgr'),
      has,
      fm,
    );
    assert.equal(pgpassContent(cluster, groupSecrets(inv), host.name).includes(':repmgr:'), has, fm);
    assert.equal(
      infraHbaRules(host, config, inv).some((r) => r.user === 'repmgr'),
      has,
      fm,
    );
    const libs = String(nodeSettings(host, config, inv).settings.shared_preload_libraries ?? '');
    assert.equal(libs.includes('repmgr'), has, `${fm}: ${libs}`);
  }
});

void test('a name without an implementation yet (patroni, refused by validation) contributes nothing', () => {
  assert.equal(failoverManagerOf({ failover_manager: 'patroni' }), noFailoverManager);
  assert.deepEqual(
    allFailoverManagers().map((m) => m.name),
    ['repmgr', 'none'],
  );
});
