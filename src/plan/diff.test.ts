import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diff, sha256, countChanges, PENDING_HANDLERS_ID } from './diff.ts';
import type { DesiredHost, HostFacts, Resource } from './types.ts';
import { testFacts as facts } from '../../test/support/fixtures.ts';

function pg(over: Partial<NonNullable<HostFacts['postgres']>> = {}): NonNullable<HostFacts['postgres']> {
  return {
    running: true,
    inRecovery: false,
    version: '15.20',
    settings: {},
    roles: {},
    databases: [],
    ...over,
  };
}

function one(resources: Resource[], over: Partial<DesiredHost> = {}): DesiredHost[] {
  return [
    { host: 'n1', role: 'primary', cluster: 'main', phases: [{ phase: 'common', resources }], ...over },
  ];
}

const file = (content: string, over: Partial<Extract<Resource, { kind: 'file' }>> = {}): Resource => ({
  kind: 'file',
  path: '/etc/x.conf',
  content,
  mode: 0o644,
  owner: 'root',
  group: 'root',
  ...over,
});

void test('packages: missing and wrong version are installed, the right one is left alone', () => {
  const plan = diff(
    one([
      { kind: 'package', name: 'a' },
      { kind: 'package', name: 'b', version: '2.0' },
      { kind: 'package', name: 'c', version: '15.*' },
      { kind: 'package', name: 'd' },
    ]),
    { n1: facts('n1', { packages: { b: '1.0', c: '15.20-0+deb12u1', d: '1' } }) },
  );
  assert.deepEqual(
    plan.hosts[0]!.changes.map((c) => c.summary),
    ['install a', 'install b=2.0 (installed: 1.0)'],
  );
});

void test('files: a changed file gets a unified diff, an unchanged one no change', () => {
  const before = 'a = 1\nb = 2\nc = 3\n';
  const after = 'a = 1\nb = 20\nc = 3\n';
  const f = facts('n1', {
    files: {
      '/etc/x.conf': { sha256: sha256(before), mode: 0o644, owner: 'root', group: 'root', content: before },
    },
  });
  const plan = diff(one([file(after)]), { n1: f });
  const c = plan.hosts[0]!.changes[0]!;
  assert.equal(c.summary, 'update /etc/x.conf');
  assert.match(c.diff ?? '', /^-b = 2$/m);
  assert.match(c.diff ?? '', /^\+b = 20$/m);
  assert.match(c.diff ?? '', /^--- \/etc\/x\.conf\tcurrent/m);
  assert.equal(countChanges(diff(one([file(before)]), { n1: f })), 0);
});

void test('files: mode and owner differences are changes, described without a diff', () => {
  const content = 'x\n';
  const f = facts('n1', {
    files: { '/etc/x.conf': { sha256: sha256(content), mode: 0o600, owner: 'postgres', group: 'root' } },
  });
  const c = diff(one([file(content)]), { n1: f }).hosts[0]!.changes[0]!;
  assert.equal(c.summary, 'update /etc/x.conf (mode 0600 -> 0644, owner postgres:root -> root:root)');
  assert.equal(c.diff, undefined);
});

void test('secret files never show their content', () => {
  const secret = 'password=hunter22\n';
  const created = diff(one([file(secret, { secret: true })]), { n1: facts('n1') }).hosts[0]!.changes[0]!;
  assert.equal(created.summary, 'create /etc/x.conf (secret)');
  assert.equal(created.diff, undefined);
  const old = facts('n1', {
    files: {
      '/etc/x.conf': { sha256: sha256('old'), mode: 0o644, owner: 'root', group: 'root', content: 'old' },
    },
  });
  const updated = diff(one([file(secret, { secret: true })]), { n1: old }).hosts[0]!.changes[0]!;
  assert.equal(updated.summary, 'update /etc/x.conf (content changed (secret))');
  assert.equal(updated.diff, undefined);
  assert.ok(!JSON.stringify({ s: updated.summary, d: updated.diff }).includes('hunter22'));
});

void test('a new file shows its whole content as added lines; notify is carried', () => {
  const c = diff(one([file('k = v\n', { notify: ['reload:svc'] })]), { n1: facts('n1') }).hosts[0]!
    .changes[0]!;
  assert.equal(c.summary, 'create /etc/x.conf');
  assert.match(c.diff ?? '', /^\+k = v$/m);
  assert.deepEqual(c.notify, ['reload:svc']);
});

void test('directories and services', () => {
  const plan = diff(
    one([
      { kind: 'directory', path: '/d1', mode: 0o750, owner: 'postgres', group: 'postgres' },
      { kind: 'directory', path: '/d2', mode: 0o755, owner: 'root', group: 'root' },
      { kind: 'service', name: 's1', state: 'running', enabled: true },
      { kind: 'service', name: 's2', state: 'running', enabled: true },
      { kind: 'service', name: 's3', state: 'stopped', enabled: false },
      { kind: 'service', name: 's4', state: 'running', enabled: true },
    ]),
    {
      n1: facts('n1', {
        directories: { '/d2': { mode: 0o700, owner: 'root', group: 'root' } },
        services: {
          s2: { active: true, enabled: false },
          s3: { active: true, enabled: true },
          s4: { active: true, enabled: true },
        },
      }),
    },
  );
  assert.deepEqual(
    plan.hosts[0]!.changes.map((c) => c.summary),
    [
      'create directory /d1',
      'update directory /d2 (mode 0700 -> 0755)',
      'start and enable s1',
      'enable s2',
      'stop and disable s3',
    ],
  );
});

void test('pg-setting: reload or restart follows pg_settings.context; units are normalised', () => {
  const settings = {
    work_mem: { setting: '4096', context: 'user', pendingRestart: false, unit: 'kB', vartype: 'integer' },
    shared_buffers: {
      setting: '16384',
      context: 'postmaster',
      pendingRestart: false,
      unit: '8kB',
      vartype: 'integer',
    },
    max_connections: {
      setting: '100',
      context: 'postmaster',
      pendingRestart: false,
      unit: null,
      vartype: 'integer',
    },
    wal_level: {
      setting: 'replica',
      context: 'postmaster',
      pendingRestart: true,
      unit: null,
      vartype: 'enum',
    },
    hot_standby: { setting: 'on', context: 'postmaster', pendingRestart: false, unit: null, vartype: 'bool' },
  };
  const plan = diff(
    one([
      { kind: 'pg-setting', name: 'work_mem', value: '8MB', unit: 'postgresql@15-main' },
      { kind: 'pg-setting', name: 'shared_buffers', value: '128MB', unit: 'postgresql@15-main' },
      { kind: 'pg-setting', name: 'max_connections', value: '200', unit: 'postgresql@15-main' },
      { kind: 'pg-setting', name: 'wal_level', value: 'replica', unit: 'postgresql@15-main' },
      { kind: 'pg-setting', name: 'hot_standby', value: 'true', unit: 'postgresql@15-main' },
      { kind: 'pg-setting', name: 'unknown.setting', value: 'x', unit: 'postgresql@15-main' },
    ]),
    { n1: facts('n1', { postgres: pg({ settings }) }) },
  );
  const changes = plan.hosts[0]!.changes;
  assert.deepEqual(
    changes.map((c) => [c.resource.kind === 'pg-setting' ? c.resource.name : '', c.notify]),
    [
      ['work_mem', ['reload:postgresql@15-main']],
      ['max_connections', ['restart:postgresql@15-main']],
      ['wal_level', ['restart:postgresql@15-main']],
    ],
  );
  assert.match(changes[0]!.summary, /set work_mem: 4096 \(kB\) -> 8MB \(reload\)/);
});

void test('pg-setting: no change while postgres is not running; ALTER SYSTEM overrides are a warning, not a change', () => {
  const r: Resource = { kind: 'pg-setting', name: 'work_mem', value: '8MB', unit: 'u' };
  assert.equal(countChanges(diff(one([r]), { n1: facts('n1') })), 0);
  const settings = {
    work_mem: {
      setting: '1024',
      context: 'user',
      pendingRestart: false,
      unit: 'kB',
      vartype: 'integer',
      sourcefile: '/var/lib/postgresql/15/main/postgresql.auto.conf',
    },
  };
  const plan = diff(one([r]), { n1: facts('n1', { postgres: pg({ settings }) }) });
  assert.equal(countChanges(plan), 0);
  assert.match(plan.warnings?.[0]?.message ?? '', /ALTER SYSTEM RESET work_mem/);
});

void test('pg-role: missing, different verifier, attributes and membership; skipped on a standby', () => {
  const role = (name: string, attributes: string[], inRoles?: string[]): Resource => ({
    kind: 'pg-role',
    name,
    verifier: `SCRAM-${name}`,
    attributes,
    ...(inRoles ? { inRoles } : {}),
  });
  const roles = {
    same: { verifier: 'SCRAM-same', attributes: ['LOGIN', 'REPLICATION'], memberOf: [] },
    pw: { verifier: 'SCRAM-old', attributes: ['LOGIN'], memberOf: [] },
    attrs: { verifier: 'SCRAM-attrs', attributes: ['LOGIN'], memberOf: [] },
    grp: { verifier: 'SCRAM-grp', attributes: ['LOGIN'], memberOf: ['pg_monitor'] },
  };
  const resources = [
    role('same', ['replication', 'LOGIN']),
    role('pw', ['LOGIN']),
    role('attrs', ['LOGIN', 'SUPERUSER']),
    role('grp', ['LOGIN'], ['pg_monitor', 'extra']),
    role('new', ['LOGIN']),
  ];
  const plan = diff(one(resources), { n1: facts('n1', { postgres: pg({ roles }) }) });
  assert.deepEqual(
    plan.hosts[0]!.changes.map((c) => c.summary),
    [
      'alter role pw (password)',
      'alter role attrs (attributes LOGIN -> SUPERUSER LOGIN)',
      'alter role grp (grant extra)',
      'create role new',
    ],
  );
  const standby = diff(one(resources), { n1: facts('n1', { postgres: pg({ inRecovery: true }) }) });
  assert.equal(countChanges(standby), 0);
  assert.ok(
    !plan.hosts[0]!.changes.some((c) => c.summary.includes('SCRAM-')),
    'verifiers stay out of summaries',
  );
});

void test('pg-database: missing is created, wrong owner is changed', () => {
  const plan = diff(
    one([
      { kind: 'pg-database', name: 'app', owner: 'app' },
      { kind: 'pg-database', name: 'repmgr', owner: 'repmgr' },
      { kind: 'pg-database', name: 'ok', owner: 'ok' },
    ]),
    {
      n1: facts('n1', {
        postgres: pg({ databases: ['repmgr', 'ok'], databaseOwners: { repmgr: 'postgres', ok: 'ok' } }),
      }),
    },
  );
  assert.deepEqual(
    plan.hosts[0]!.changes.map((c) => c.summary),
    ['create database app owned by app', 'change owner of database repmgr: postgres -> repmgr'],
  );
});

void test('actions run when needed(facts) says so, with the host facts', () => {
  const seen: HostFacts[] = [];
  const action = (id: string, yes: boolean): Resource => ({
    kind: 'action',
    id,
    description: `do ${id}`,
    command: 'true',
    needed: (f) => (seen.push(f), yes),
  });
  const f = facts('n1', { probes: { x: '1' } });
  const plan = diff(one([action('a', true), action('b', false)]), { n1: f });
  assert.deepEqual(
    plan.hosts[0]!.changes.map((c) => c.summary),
    ['do a'],
  );
  assert.equal(seen[0], f);
});

void test('phases filter: only the requested phases are diffed', () => {
  const d: DesiredHost[] = [
    {
      host: 'n1',
      phases: [
        { phase: 'common', resources: [{ kind: 'package', name: 'a' }] },
        { phase: 'pooler', resources: [{ kind: 'package', name: 'b' }] },
      ],
    },
  ];
  const plan = diff(d, { n1: facts('n1') }, { phases: ['pooler'] });
  assert.deepEqual(
    plan.hosts[0]!.changes.map((c) => `${c.phase} ${c.summary}`),
    ['pooler install b'],
  );
});

void test('handlers left pending by a failed deploy come back as a change in the first phase', () => {
  const plan = diff(one([{ kind: 'package', name: 'a' }]), {
    n1: facts('n1', { packages: { a: '1' }, pendingHandlers: ['restart:postgresql@15-main'] }),
  });
  const c = plan.hosts[0]!.changes[0]!;
  assert.equal(c.resource.kind === 'action' && c.resource.id, PENDING_HANDLERS_ID);
  assert.deepEqual(c.notify, ['restart:postgresql@15-main']);
  assert.equal(c.phase, 'common');
});

void test('an unreachable host is a refusal and gets no changes', () => {
  const plan = diff(one([{ kind: 'package', name: 'a' }]), {
    n1: { ...facts('n1'), reachable: false, unreachableReason: 'connection refused' },
  });
  assert.equal(countChanges(plan), 0);
  assert.deepEqual(plan.refusals, [{ host: 'n1', message: 'n1 is unreachable: connection refused' }]);
});
