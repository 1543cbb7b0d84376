import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noPooler } from './pooler.ts';
import { allPoolers, poolerOf } from './registry.ts';
import { pgPaths } from '../postgres/paths.ts';
import { clientHbaRules, infraHbaRules } from '../postgres/hba.ts';
import { roleSpecs } from '../postgres/roles.ts';
import { groupConfig, groupInventory } from '../../../test/support/postgres-fixtures.ts';

void test('pooler none asks nothing of postgres, listens nowhere and runs nothing', () => {
  const none = poolerOf({ pooler: 'none' });
  assert.equal(none, noPooler);
  assert.equal(none.port, undefined);
  assert.deepEqual(none.postgres.roles, []);
  assert.deepEqual(none.postgres.hbaRules(groupInventory().hosts), []);
  assert.deepEqual(none.clientHbaRules(), []);
  assert.deepEqual(none.units, []);
  assert.deepEqual(none.packages(pgPaths(15)), []);
  assert.deepEqual(none.observeSections(), []);
  assert.deepEqual(none.checks, []);
  assert.equal(none.component, undefined);
  assert.deepEqual(
    allPoolers().map((p) => p.name),
    ['pgbouncer', 'none'],
  );
});

void test("what postgres renders follows the pooler: pgbouncer's auth role and rules, or none of them", () => {
  const inv = groupInventory();
  const host = inv.hosts[0]!;
  const base = groupConfig();
  for (const pooler of ['pgbouncer', 'none'] as const) {
    const config = { ...base, clusters: [{ ...base.clusters[0]!, pooler }] };
    const has = pooler === 'pgbouncer';
    assert.equal(
      roleSpecs(config.clusters[0]!, config).some((r) => r.name === 'pgbouncer_auth'),
      has,
      pooler,
    );
    assert.equal(
      infraHbaRules(host, config, inv).some((r) => r.user === 'pgbouncer_auth'),
      has,
      pooler,
    );
    assert.equal(
      clientHbaRules(host, config).some((r) => r.type === 'local'),
      has,
      pooler,
    );
  }
});
