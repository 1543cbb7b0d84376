import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolerOf } from '../registry.ts';
import { pgPaths, SECRETS } from '../../postgres/paths.ts';
import { renderHbaRule } from '../../postgres/hba.ts';
import { threeNodeInventory } from '../../../../test/support/fixtures.ts';

const pgbouncer = poolerOf({ pooler: 'pgbouncer' });
const line = (r: Parameters<typeof renderHbaRule>[0]) =>
  renderHbaRule({ ...r, comment: undefined })
    .trim()
    .split(/\s+/)
    .join(' ');

void test('pgbouncer asks postgres for its auth user, its socket rule, TLS from every node, and the clients over the socket', () => {
  assert.equal(pgbouncer.name, 'pgbouncer');
  assert.deepEqual(pgbouncer.postgres.roles, [
    { name: 'pgbouncer_auth', attributes: ['LOGIN'], secret: SECRETS.pgbouncer },
    { name: 'pgbouncer_check', attributes: ['LOGIN'], secret: SECRETS.pgbouncerCheck },
  ]);
  const nodes = threeNodeInventory().hosts;
  assert.deepEqual(pgbouncer.postgres.hbaRules(nodes).map(line), [
    'local all pgbouncer_auth scram-sha-256',
    ...nodes.map((n) => `hostssl all all ${n.address}/32 scram-sha-256`),
  ]);
  assert.deepEqual(pgbouncer.clientHbaRules().map(line), ['local all all scram-sha-256']);
});

void test('pgbouncer listens on 6432, runs with its follower, is observed by its route and judged by pgbouncer-write', () => {
  assert.equal(pgbouncer.port, 6432);
  assert.deepEqual(pgbouncer.units, ['pgbouncer', 'tpa-pgbouncer-follow']);
  assert.deepEqual(pgbouncer.packages(pgPaths(15)), ['pgbouncer']);
  assert.deepEqual(
    pgbouncer.observeSections().map((s) => s.name),
    ['pgbouncer-route'],
  );
  assert.deepEqual(
    pgbouncer.checks.map((c) => c.id),
    ['pgbouncer-write'],
  );
  assert.equal(pgbouncer.component?.name, 'pgbouncer');
});
