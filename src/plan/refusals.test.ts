import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refusals } from './refusals.ts';
import type { DesiredHost, HostFacts, Resource } from './types.ts';
import { testFacts } from '../../test/support/fixtures.ts';

function facts(host: string, postgres?: Partial<NonNullable<HostFacts['postgres']>>): HostFacts {
  if (!postgres) return testFacts(host);
  return testFacts(host, {
    postgres: {
      running: true,
      inRecovery: false,
      version: '15',
      settings: {},
      roles: {},
      databases: [],
      ...postgres,
    },
  });
}

const node = (
  host: string,
  role: 'primary' | 'replica',
  upstream?: string,
  address?: string,
): DesiredHost => ({
  host,
  role,
  cluster: 'main',
  ...(upstream ? { upstream } : {}),
  ...(address ? { address } : {}),
  phases: [],
});

void test('no refusals for a healthy cluster', () => {
  const d = [node('a', 'primary'), node('b', 'replica', 'a'), node('c', 'replica', 'b')];
  const f = {
    a: facts('a', { systemIdentifier: '1' }),
    b: facts('b', { inRecovery: true, systemIdentifier: '1' }),
    c: facts('c', { inRecovery: true, systemIdentifier: '1' }),
  };
  assert.deepEqual(refusals(d, f), []);
});

void test('a configured primary running in recovery is refused: deploy never promotes', () => {
  const r = refusals([node('a', 'primary'), node('b', 'replica', 'a')], {
    a: facts('a', { inRecovery: true }),
    b: facts('b', { systemIdentifier: '1' }),
  });
  assert.equal(r[0]?.host, 'a');
  assert.match(r[0]?.message ?? '', /configured as the primary but runs as a replica.*never promotes/);
});

void test('a configured replica running as a primary of the same system is refused: deploy never demotes', () => {
  const r = refusals([node('a', 'primary'), node('b', 'replica', 'a')], {
    a: facts('a', { systemIdentifier: '7' }),
    b: facts('b', { systemIdentifier: '7' }),
  });
  assert.deepEqual(
    r.map((x) => x.host),
    ['b'],
  );
  assert.match(r[0]!.message, /never demotes/);
});

void test('a replica still running the empty cluster Debian created is not a role change', () => {
  const r = refusals([node('a', 'primary'), node('b', 'replica', 'a')], {
    a: facts('a', { systemIdentifier: '7' }),
    b: facts('b', { systemIdentifier: '8' }),
  });
  assert.deepEqual(r, []);
});

void test('a replica running as primary while the primary is down is refused (looks like a failover)', () => {
  const r = refusals([node('a', 'primary'), node('b', 'replica', 'a')], { a: facts('a'), b: facts('b', {}) });
  assert.match(r[0]?.message ?? '', /while a \(the configured primary\) is not running/);
});

void test('after a failover the refusals say which roles to swap in config.yml', () => {
  // main-1 is fenced (not running), main-2 was promoted; main-3 cascades from main-2
  const d = [node('main-1', 'primary'), node('main-2', 'replica'), node('main-3', 'replica', 'main-2')];
  const r = refusals(d, {
    'main-1': facts('main-1'),
    'main-2': facts('main-2', { systemIdentifier: '7' }),
    'main-3': facts('main-3', { inRecovery: true, systemIdentifier: '7' }),
  });
  assert.equal(r.length, 1, JSON.stringify(r));
  assert.equal(r[0]!.host, 'main-2');
  assert.match(
    r[0]!.message,
    /swap the two nodes' roles, `role: primary` for main-2 and `role: replica` for main-1, then run tpa provision \(it records the roles\) and deploy again /,
  );
  assert.match(r[0]!.message, /main-1 comes back only as a standby: rejoin it \(repmgr node rejoin/);
  // main-1 rejoined as a standby: both refusals name the same swap
  const both = refusals(d, {
    'main-1': facts('main-1', { inRecovery: true, systemIdentifier: '7' }),
    'main-2': facts('main-2', { systemIdentifier: '7' }),
    'main-3': facts('main-3', { inRecovery: true, systemIdentifier: '7' }),
  });
  assert.deepEqual(
    both.map((x) => x.host),
    ['main-1', 'main-2'],
  );
  for (const x of both) assert.match(x.message, /`role: primary` for main-2 and `role: replica` for main-1/);
  assert.doesNotMatch(both[1]!.message, /rejoin/);
  // a promoted cascaded replica also loses its upstream
  const cascaded = refusals([node('a', 'primary'), node('b', 'replica', 'c'), node('c', 'replica')], {
    a: facts('a', { inRecovery: true, systemIdentifier: '1' }),
    b: facts('b', { systemIdentifier: '1' }),
    c: facts('c', { inRecovery: true, systemIdentifier: '1' }),
  });
  assert.match(
    cascaded.find((x) => x.host === 'b')!.message,
    /`role: primary` for b \(without its `upstream`\)/,
  );
});

void test('an upstream loop is refused once, naming the loop', () => {
  const r = refusals([node('a', 'primary'), node('b', 'replica', 'c'), node('c', 'replica', 'b')], {});
  assert.equal(r.length, 1);
  assert.match(r[0]!.message, /loop: (b -> c -> b|c -> b -> c)/);
});

void test('an unknown upstream is refused', () => {
  const r = refusals([node('a', 'primary'), node('b', 'replica', 'zz')], {});
  assert.match(r[0]!.message, /upstream zz of b is not a node/);
});

void test('moving a node under one of its own downstreams is refused while that one streams from it', () => {
  const d = [
    node('a', 'primary', undefined, '10.0.0.1'),
    node('b', 'replica', 'c', '10.0.0.2'),
    node('c', 'replica', 'a', '10.0.0.3'),
  ];
  const f = {
    a: facts('a', { systemIdentifier: '1' }),
    b: facts('b', { inRecovery: true, systemIdentifier: '1', upstream: '10.0.0.1' }),
    c: facts('c', { inRecovery: true, systemIdentifier: '1', upstream: '10.0.0.2' }),
  };
  const r = refusals(d, f);
  assert.equal(r.length, 1);
  assert.match(r[0]!.message, /b is to follow c, which streams from b now/);
});

void test('destructive actions are refused', () => {
  const action = (command: string, stdin?: string): Resource => ({
    kind: 'action',
    id: 'x',
    description: 'x',
    command,
    ...(stdin ? { stdin } : {}),
    needed: () => true,
  });
  const host = (r: Resource): DesiredHost[] => [{ host: 'a', phases: [{ phase: 'common', resources: [r] }] }];
  for (const bad of [
    action('pg_dropcluster 15 main'),
    action('runuser -u postgres -- psql', 'DROP DATABASE app;'),
    action('repmgr standby promote'),
    action('rm -rf /var/lib/postgresql/15/main'),
    action('mkfs.ext4 /dev/vdb'),
  ]) {
    assert.equal(refusals(host(bad), {}).length, 1, `refused: ${bad.kind === 'action' ? bad.command : ''}`);
  }
  for (const ok of [
    action('repmgr standby clone'),
    action('install -d /var/lib/tpa'),
    action('psql', 'CREATE DATABASE x;'),
  ]) {
    assert.deepEqual(refusals(host(ok), {}), []);
  }
});

void test('a new server package under a running server is refused (tpa upgrade rolls it); a stopped or new node installs it', () => {
  const pinned = (host: string): DesiredHost => ({
    ...node(host, 'primary'),
    phases: [
      {
        phase: 'postgres-primary',
        resources: [
          { kind: 'package', name: 'postgresql-15', version: '15.20-0+deb12u1' },
          { kind: 'package', name: 'libpq5', version: '15.20-0+deb12u1' },
        ],
      },
    ],
  });
  const installed = (f: HostFacts, v: string) => ({
    ...f,
    packages: { ...f.packages, 'postgresql-15': v, libpq5: v },
  });
  const running = installed(facts('a', { systemIdentifier: '1' }), '15.18-0+deb12u1');
  const out = refusals([pinned('a')], { a: running });
  assert.equal(out.length, 1);
  assert.match(
    out[0]!.message,
    /a runs postgresql-15 15\.18-0\+deb12u1 and config\.yml pins 15\.20-0\+deb12u1.*tpa upgrade DIR --to 15\.20-0\+deb12u1/,
  );
  const newer = installed(facts('a', { systemIdentifier: '1' }), '15.21-0+deb12u1');
  assert.match(
    refusals([pinned('a')], { a: newer })[0]!.message,
    /does not downgrade a running server: pin 15\.21-0\+deb12u1 again/,
  );
  // the same version, a node with no server running, a node without the package: nothing refused
  assert.deepEqual(
    refusals([pinned('a')], { a: installed(facts('a', { systemIdentifier: '1' }), '15.20-0+deb12u1') }),
    [],
  );
  assert.deepEqual(refusals([pinned('a')], { a: installed(facts('a'), '15.18-0+deb12u1') }), []);
  assert.deepEqual(refusals([pinned('a')], { a: facts('a', { systemIdentifier: '1' }) }), []);
});
