import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config } from '../testdata/fixtures.ts';
import { found } from '../testdata/check.ts';
import {
  fencingStandbys,
  packageVersions,
  postgresVersionAvailable,
  supportedFailoverManager,
} from './postgres.ts';

void test('postgresVersionAvailable: Debian 12 ships 15 only', () => {
  assert.deepEqual(found(postgresVersionAvailable, config()), []);
  for (const platform of ['lxc', 'bare', 'aws'] as const) {
    const v16 = config((c) => {
      c.platform = platform;
      c.postgres = { version: 16 };
    });
    assert.deepEqual(found(postgresVersionAvailable, v16), [
      `error postgres.version: PostgreSQL 16 is not offered by Debian 12 (bookworm), the system of platform ${platform}`,
    ]);
    assert.equal(postgresVersionAvailable(v16)[0]?.hint, 'use 15');
  }
});

void test('supportedFailoverManager: patroni is refused, repmgr suggested', () => {
  assert.deepEqual(found(supportedFailoverManager, config()), []);
  const patroni = config((c) => {
    c.clusters[0]!.failover_manager = 'patroni';
  });
  assert.deepEqual(found(supportedFailoverManager, patroni), [
    'error clusters.0.failover_manager: patroni is not implemented by tpa yet',
  ]);
  assert.match(supportedFailoverManager(patroni)[0]?.hint ?? '', /repmgr/);
});

void test('supportedFailoverManager: none only for a single-node cluster', () => {
  const single = config((c) => {
    c.clusters.push({ name: 'solo', failover_manager: 'none', nodes: [{ name: 'solo-1', role: 'primary' }] });
  });
  assert.deepEqual(found(supportedFailoverManager, single), []);
  const replicas = config((c) => {
    c.clusters[0]!.failover_manager = 'none';
  });
  assert.deepEqual(found(supportedFailoverManager, replicas), [
    'error clusters.0.failover_manager: cluster "main" has replicas: failover_manager none is for a single-node cluster',
  ]);
});

void test('fencingStandbys: min_standbys at most the standbys streaming from the primary', () => {
  assert.deepEqual(found(fencingStandbys, config()), []);
  // the fixture's main: one replica streams from the primary, the other from that replica
  const replicas = 1;
  const ok = config((c) => {
    c.clusters[0]!.failover = { timeout: 12, min_standbys: replicas };
  });
  assert.deepEqual(found(fencingStandbys, ok), []);
  const tooMany = config((c) => {
    c.clusters[0]!.failover = { min_standbys: replicas + 1 };
  });
  assert.deepEqual(found(fencingStandbys, tooMany), [
    `error clusters.0.failover.min_standbys: cluster "${tooMany.clusters[0]!.name}" has 1 standby streaming from its primary: with fewer than ${replicas + 1} connected the primary would fence itself`,
  ]);
  const none = config((c) => {
    c.clusters.push({
      name: 'solo',
      failover_manager: 'none',
      failover: { timeout: 10 },
      nodes: [{ name: 'solo-1', role: 'primary' }],
    });
  });
  assert.match(found(fencingStandbys, none)[0] ?? '', /has no failover manager/);
});

void test('packageVersions: a whole Debian version of the group major, at group or cluster level', () => {
  const pinned = config((c) => {
    c.postgres = { version: 15, package_version: '15.18-0+deb12u1' };
    c.clusters[0]!.postgres_package_version = '15.20-0+deb12u1';
  });
  assert.deepEqual(found(packageVersions, pinned), []);
  const bad = config((c) => {
    c.postgres = { version: 15, package_version: '15.20' };
    c.clusters[0]!.postgres_package_version = '16.1-1.pgdg120+1';
  });
  assert.deepEqual(found(packageVersions, bad), [
    'error postgres.package_version: "15.20" is not a whole Debian package version',
    'error clusters.0.postgres_package_version: 16.1-1.pgdg120+1 is not a version of PostgreSQL 15 (postgres.version)',
  ]);
  assert.match(packageVersions(bad)[0]?.hint ?? '', /15\.20-0\+deb12u1/);
});
