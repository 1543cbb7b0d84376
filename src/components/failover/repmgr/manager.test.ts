import assert from 'node:assert/strict';
import { test } from 'node:test';
import { START_GUARD_MARKER } from '../manager.ts';
import { failoverManagerOf } from '../registry.ts';
import { pgPaths, SECRETS } from '../../postgres/paths.ts';
import { renderHbaRule } from '../../postgres/hba.ts';
import { FENCE_MARKER } from './fence.ts';
import { REJOIN_SCRIPT } from './rejoin-script.ts';
import { threeNodeConfig, threeNodeInventory } from '../../../../test/support/fixtures.ts';
import { shellProblems } from '../../../../test/support/repmgr-fixtures.ts';

const repmgr = failoverManagerOf({ failover_manager: 'repmgr' });
const p = pgPaths(15);

void test('repmgr asks postgres for its library and package, its superuser role, database, hba rules and .pgpass line', () => {
  assert.equal(repmgr.name, 'repmgr');
  assert.deepEqual(repmgr.postgres.preloadLibraries, ['repmgr']);
  assert.deepEqual(repmgr.postgres.packages(p), ['postgresql-15-repmgr']);
  assert.deepEqual(repmgr.postgres.roles, [
    { name: 'repmgr', attributes: ['SUPERUSER', 'LOGIN'], secret: SECRETS.repmgr },
  ]);
  assert.deepEqual(repmgr.postgres.databases, [{ name: 'repmgr', owner: 'repmgr' }]);
  assert.deepEqual(repmgr.postgres.pgpass, [{ database: '*', user: 'repmgr', secret: SECRETS.repmgr }]);
  const nodes = threeNodeInventory().hosts;
  const hba = repmgr.postgres.hbaRules(nodes).map((r) => renderHbaRule({ ...r, comment: undefined }).trim());
  assert.equal(hba.length, 2 + 2 * nodes.length);
  for (const n of nodes) {
    assert.ok(
      hba.some((l) => /^hostssl\s+repmgr\s+repmgr\s+/.test(l) && l.includes(`${n.address}/32`)),
      n.name,
    );
    assert.ok(hba.some((l) => /^hostssl\s+replication\s+repmgr\s+/.test(l) && l.includes(`${n.address}/32`)));
  }
});

void test('repmgr runs repmgrd, is observed and judged by its two checks, and pauses by stopping repmgrd', () => {
  assert.deepEqual(repmgr.units, ['repmgrd']);
  assert.equal(repmgr.daemonUnit, 'repmgrd');
  assert.deepEqual(repmgr.packages(p), ['postgresql-15-repmgr', 'repmgr']);
  assert.deepEqual(
    repmgr.checks.map((c) => c.id),
    ['repmgrd-running', 'repmgr-cluster-show'],
  );
  assert.deepEqual(
    repmgr.observeSections(p).map((s) => s.name),
    ['repmgr-table'],
  );
  assert.equal(repmgr.pause, 'systemctl stop repmgrd 2>/dev/null || true');
  assert.equal(repmgr.resume, 'systemctl start repmgrd');
  assert.match(repmgr.forgetNodes, /DELETE FROM repmgr\.nodes/);
  assert.equal(repmgr.rejoinCommand, REJOIN_SCRIPT);
  assert.equal(repmgr.component?.name, 'repmgr');
});

void test("repmgr's start guard writes where status and test read", () => {
  assert.equal(FENCE_MARKER, START_GUARD_MARKER);
});

void test('forgetNode: unregisters only a node repmgr still knows (a second run converges), then drops its idle slot', () => {
  const cluster = threeNodeConfig().clusters[0]!;
  const script = repmgr.forgetNode!(p, cluster, 'main-3');
  assert.deepEqual(shellProblems(script), []);
  const lines = script.split('\n');
  const guard = lines.findIndex((l) => l.includes('FROM repmgr.nodes WHERE node_id = 3'));
  const unregister = lines.findIndex((l) => l.includes('standby unregister --node-id=3'));
  assert.ok(guard >= 0 && unregister > guard && lines[guard]!.startsWith('if '), script);
  assert.match(script, /slot_name = '\\''repmgr_slot_3'\\'' AND NOT active/);
  assert.equal(repmgr.fencesBelow!(cluster), 1, 'the default min_standbys for a cluster with replicas');
});
