import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostFacts, PhasedResources } from '../../../plan/types.ts';
import { pgbouncerComponent } from './index.ts';
import { DATABASES_INI, PGBOUNCER_INI, PGBOUNCER_USERLIST, renderDatabasesIni } from './files.ts';
import {
  emptyFacts,
  sampleContext,
  sampleInventory,
  serverFacts,
  shellProblems,
} from '../../../../test/support/repmgr-fixtures.ts';

const host = (name: string) => sampleInventory().hosts.find((h) => h.name === name)!;
const resources = (phases: PhasedResources[], phase: string) =>
  phases.find((p) => p.phase === phase)?.resources ?? [];
const fileIn = (phases: PhasedResources[], path: string) => {
  const f = phases.flatMap((p) => p.resources).find((r) => r.kind === 'file' && r.path === path);
  assert.ok(f?.kind === 'file', `no file ${path}`);
  return f;
};

void test('clients get in last: pgbouncer.ini, the route and the services come in client-access', () => {
  const phases = pgbouncerComponent.desired(host('main-2'), sampleContext());
  const late = resources(phases, 'client-access');
  assert.deepEqual(
    late.map((r) => (r.kind === 'file' ? r.path : r.kind === 'service' ? `service ${r.name}` : r.kind)),
    [DATABASES_INI, PGBOUNCER_INI, 'service pgbouncer', 'service tpa-pgbouncer-follow'],
  );
  const early = resources(phases, 'pooler');
  assert.ok(early.some((r) => r.kind === 'package' && r.name === 'pgbouncer'));
  assert.ok(!early.some((r) => r.kind === 'service'), 'nothing started before client-access');
});

void test('the route goes to the primary from facts, in the bytes the follower writes', () => {
  assert.equal(
    fileIn(pgbouncerComponent.desired(host('main-3'), sampleContext()), DATABASES_INI).content,
    renderDatabasesIni('10.0.3.11'),
  );
  const afterFailover: Record<string, HostFacts> = {
    'main-1': emptyFacts('main-1'),
    'main-2': serverFacts('main-2', 'primary', 2),
    'main-3': serverFacts('main-3', 'standby'),
  };
  for (const name of ['main-1', 'main-2', 'main-3']) {
    const f = fileIn(pgbouncerComponent.desired(host(name), sampleContext(afterFailover)), DATABASES_INI);
    assert.equal(f.content, renderDatabasesIni('10.0.3.12'), name);
    assert.equal(f.owner, 'postgres', 'the follower runs as postgres and must not see an owner change');
    assert.equal(f.mode, 0o640);
  }
});

void test('the auth function is installed by the current primary only', () => {
  const has = (name: string, facts: Record<string, HostFacts>) =>
    pgbouncerComponent
      .desired(host(name), sampleContext(facts))
      .flatMap((p) => p.resources)
      .some((r) => r.kind === 'action' && r.id === 'pgbouncer-auth-function');
  assert.equal(has('main-1', {}), true);
  assert.equal(has('main-2', {}), false);
  const afterFailover = { 'main-2': serverFacts('main-2', 'primary', 2) };
  assert.equal(has('main-1', afterFailover), false);
  assert.equal(has('main-2', afterFailover), true);
});

void test('the password reaches only userlist.txt, which is secret and 0600', () => {
  const ctx = sampleContext();
  const password = ctx.secrets.pgbouncer_password!;
  const phases = pgbouncerComponent.desired(host('main-1'), ctx);
  for (const r of phases.flatMap((p) => p.resources)) {
    if (r.kind === 'file' && r.path === PGBOUNCER_USERLIST) {
      assert.equal(r.secret, true);
      assert.equal(r.mode, 0o600);
      assert.ok(r.content.includes(password));
    } else {
      assert.ok(
        !JSON.stringify(r).includes(password),
        `the password leaked into ${JSON.stringify(r).slice(0, 80)}`,
      );
    }
  }
  assert.throws(
    () => pgbouncerComponent.desired(host('main-1'), { ...ctx, secrets: {} }),
    /pgbouncer_password/,
  );
});

void test('commands, probes and checks are valid sh', () => {
  const ctx = sampleContext();
  const h = host('main-1');
  const commands = [
    ...pgbouncerComponent
      .desired(h, ctx)
      .flatMap((p) => p.resources)
      .flatMap((r) => (r.kind === 'action' ? [r.command] : [])),
    ...Object.values(pgbouncerComponent.probes!(h, ctx)),
    ...pgbouncerComponent.checks!(h, ctx).map((c) => c.command),
  ];
  assert.ok(commands.length >= 5);
  for (const c of commands) assert.deepEqual(shellProblems(`#!/bin/sh\n${c}\n`), [], c);
});

void test('applies when the cluster pools with pgbouncer', () => {
  const ctx = sampleContext();
  const config = structuredClone(ctx.config);
  config.clusters[0]!.pooler = 'none';
  assert.equal(pgbouncerComponent.appliesTo(host('main-1'), ctx), true);
  assert.equal(pgbouncerComponent.appliesTo(host('main-1'), { ...ctx, config }), false);
});
