import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostFacts, PhasedResources, Resource } from '../../../plan/types.ts';
import { sha256 } from '../../../plan/diff.ts';
import { cloneNeeded, DATADIR_PROBE, NODE_RECORD_PROBE, repmgrComponent, UNIT_PROBE } from './index.ts';
import { nodeConninfo, REPMGRD_UNIT_FILE } from './conf.ts';
import { fenceDropInPath, renderFenceDropIn } from './fence.ts';
import { pgPaths } from '../../postgres/paths.ts';
import {
  emptyFacts,
  sampleContext,
  sampleInventory,
  serverFacts,
  shellProblems,
} from '../../../../test/support/repmgr-fixtures.ts';

const host = (name: string) => sampleInventory().hosts.find((h) => h.name === name)!;

function action(phases: PhasedResources[], id: string) {
  const r = phases.flatMap((p) => p.resources).find((x) => x.kind === 'action' && x.id === id);
  assert.ok(r && r.kind === 'action', `no action ${id}`);
  return r;
}

const phaseOf = (phases: PhasedResources[], pred: (r: Resource) => boolean) =>
  phases.find((p) => p.resources.some(pred))?.phase;

void test('files come with the server; registration, clones and standby registration in postgres-replicas', () => {
  const ctx = sampleContext();
  const primary = repmgrComponent.desired(host('main-1'), ctx);
  const replica = repmgrComponent.desired(host('main-3'), ctx);
  assert.equal(
    phaseOf(primary, (r) => r.kind === 'file' && r.path === '/etc/repmgr.conf'),
    'postgres-primary',
  );
  // the server listens on its address only after postgres-primary's restart handler
  assert.equal(
    phaseOf(primary, (r) => r.kind === 'action' && r.id === 'repmgr-primary-register'),
    'postgres-replicas',
  );
  assert.equal(
    phaseOf(replica, (r) => r.kind === 'action' && r.id === 'repmgr-standby-clone'),
    'postgres-replicas',
  );
  assert.equal(
    phaseOf(replica, (r) => r.kind === 'service' && r.name === 'repmgrd'),
    'failover-manager',
  );
  // main-3 cascades from main-2 (node 2)
  const clone = action(replica, 'repmgr-standby-clone');
  assert.match(clone.command, /-d 'host=10\.0\.3\.12 .*standby clone --upstream-node-id=2 /);
  assert.match(
    action(replica, 'repmgr-standby-register').command,
    /standby register --upstream-node-id=2 --force/,
  );
  // clone, then start the server, then register
  const order = replica
    .find((p) => p.phase === 'postgres-replicas')!
    .resources.map((r) => (r.kind === 'action' ? r.id : r.kind === 'service' ? `service ${r.name}` : r.kind));
  assert.deepEqual(order.slice(-3), [
    'repmgr-standby-clone',
    'repmgr-start-standby',
    'repmgr-standby-register',
  ]);
});

void test('every command, probe and check is valid sh, and none carries a secret', () => {
  const ctx = sampleContext();
  const secrets = Object.values(ctx.secrets);
  for (const name of ['main-1', 'main-2', 'main-3']) {
    const h = host(name);
    const commands = [
      ...repmgrComponent
        .desired(h, ctx)
        .flatMap((p) => p.resources)
        .flatMap((r) => (r.kind === 'action' ? [r.command] : [])),
      ...Object.values(repmgrComponent.probes!(h, ctx)),
      ...repmgrComponent.checks!(h, ctx).map((c) => c.command),
    ];
    for (const c of commands) {
      assert.deepEqual(shellProblems(`#!/bin/sh\n${c}\n`), [], c);
      for (const s of secrets) assert.ok(!c.includes(s), 'a secret in a command');
    }
    for (const r of repmgrComponent.desired(h, ctx).flatMap((p) => p.resources)) {
      if (r.kind === 'file')
        for (const s of secrets) assert.ok(!r.content.includes(s), `a secret in ${r.path}`);
    }
  }
});

void test('clone only a directory that holds no member of the cluster', () => {
  const S = '7300000000000000001';
  const dd = (standby: 0 | 1, sysid: string) => ({
    [DATADIR_PROBE]: `pg_version=15 standby_signal=${standby} sysid=${sysid}`,
  });
  // nothing known yet (first deploy, before postgres is installed)
  assert.equal(cloneNeeded(emptyFacts('main-2'), false, undefined), true);
  // Debian's empty cluster: its own system identifier
  assert.equal(cloneNeeded(emptyFacts('main-2', dd(0, '7399999999999999999')), false, S), true);
  // a standby already
  assert.equal(cloneNeeded(emptyFacts('main-2', dd(1, S)), false, S), false);
  assert.equal(cloneNeeded(serverFacts('main-2', 'standby', 1, S), false, S), false);
  // the cluster's own data, not a standby (a former primary): never cloned over
  assert.equal(cloneNeeded(emptyFacts('main-2', dd(0, S)), false, S), false);
  // the node that is the primary now
  assert.equal(cloneNeeded(serverFacts('main-2', 'primary', 2, S), true, S), false);
});

void test('after a failover the promoted replica is left alone and a new clone comes from it', () => {
  const S = '7300000000000000001';
  const facts: Record<string, HostFacts> = {
    'main-1': emptyFacts('main-1'),
    'main-2': serverFacts('main-2', 'primary', 2, S),
    'main-3': emptyFacts('main-3'),
  };
  const ctx = sampleContext(facts);
  const promoted = repmgrComponent.desired(host('main-2'), ctx);
  assert.equal(action(promoted, 'repmgr-standby-clone').needed(facts['main-2']!), false);
  assert.equal(action(promoted, 'repmgr-standby-register').needed(facts['main-2']!), false);

  // a replica with no configured upstream clones from the node that is primary now
  const config = structuredClone(ctx.config);
  config.clusters[0]!.nodes[2]!.upstream = undefined;
  const c = action(repmgrComponent.desired(host('main-3'), { ...ctx, config }), 'repmgr-standby-clone');
  assert.match(c.command, /-d 'host=10\.0\.3\.12 /);
  assert.match(c.description, /from main-2/);
});

void test('registration and the repmgrd unit reload are needed only when the facts say so', () => {
  const ctx = sampleContext();
  const primary = repmgrComponent.desired(host('main-1'), ctx);
  const register = action(primary, 'repmgr-primary-register');
  assert.equal(register.needed(emptyFacts('main-1')), true);
  const conninfo = nodeConninfo(host('main-1').address);
  assert.equal(
    register.needed(emptyFacts('main-1', { [NODE_RECORD_PROBE]: `primary||t|${conninfo}` })),
    false,
  );
  // a record an older tpa wrote (another conninfo) is registered again, with --force
  assert.equal(register.needed(emptyFacts('main-1', { [NODE_RECORD_PROBE]: 'primary||t|host=x' })), true);
  // configured primary that runs as a standby now: not registered as a primary by deploy
  assert.equal(register.needed(serverFacts('main-1', 'standby')), false);

  // a standby: registered again when its record has no upstream (repmgrd would not promote it)
  const standbyRegister = action(repmgrComponent.desired(host('main-2'), ctx), 'repmgr-standby-register');
  const mine = nodeConninfo(host('main-2').address);
  assert.equal(
    standbyRegister.needed(emptyFacts('main-2', { [NODE_RECORD_PROBE]: `standby|1|t|${mine}` })),
    false,
  );
  assert.equal(
    standbyRegister.needed(emptyFacts('main-2', { [NODE_RECORD_PROBE]: `standby||t|${mine}` })),
    true,
  );
  // and the script itself compares the upstream too (the rebuild runs it without facts)
  assert.ok(standbyRegister.command.includes(`= 'standby|1|${mine}' ]`), standbyRegister.command);

  const unitFile = primary
    .flatMap((p) => p.resources)
    .find((r) => r.kind === 'file' && r.path === REPMGRD_UNIT_FILE);
  assert.ok(unitFile?.kind === 'file');
  const dropIn = fenceDropInPath(pgPaths());
  const reload = action(primary, `systemd-daemon-reload ${REPMGRD_UNIT_FILE} ${dropIn}`);
  assert.equal(reload.needed(emptyFacts('main-1')), true);
  const same = emptyFacts('main-1');
  const stat = { mode: 0o644, owner: 'root', group: 'root' };
  same.files[REPMGRD_UNIT_FILE] = { sha256: sha256(unitFile.content), ...stat };
  // one reload for both unit files of the phase: the drop-in still differs
  assert.equal(reload.needed(same), true);
  same.files[dropIn] = { sha256: sha256(renderFenceDropIn(pgPaths())), ...stat };
  assert.equal(reload.needed(same), false);
});

void test('applies to repmgr clusters only', () => {
  const ctx = sampleContext();
  assert.equal(repmgrComponent.appliesTo(host('main-1'), ctx), true);
  const config = structuredClone(ctx.config);
  config.clusters[0]!.failover_manager = 'patroni';
  assert.equal(repmgrComponent.appliesTo(host('main-1'), { ...ctx, config }), false);
});

void test('config.yml tunes failure detection and promotion priorities', () => {
  const ctx = sampleContext();
  const config = structuredClone(ctx.config);
  config.clusters[0]!.repmgr = { monitoring_history: true };
  config.clusters[0]!.failover = { timeout: 12, min_standbys: 2 };
  config.clusters[0]!.nodes[2]!.failover_priority = 0;
  const conf = repmgrComponent
    .desired(host('main-3'), { ...ctx, config })
    .flatMap((p) => p.resources)
    .find((r) => r.kind === 'file' && r.path === '/etc/repmgr.conf');
  assert.ok(conf?.kind === 'file');
  assert.match(conf.content, /^reconnect_attempts=2$/m);
  assert.match(conf.content, /^reconnect_interval=6$/m);
  assert.match(conf.content, /^child_nodes_connected_min_count=2$/m);
  assert.match(conf.content, /^monitoring_history=yes$/m);
  assert.match(conf.content, /^priority=0$/m);
});

void test('repmgr cluster show is checked once per cluster, on the node that is the primary now', () => {
  const names = (ctx: ReturnType<typeof sampleContext>, node: string) =>
    repmgrComponent.checks!(host(node), ctx).map((c) => c.name);
  const showOn = (ctx: ReturnType<typeof sampleContext>) =>
    ['main-1', 'main-2', 'main-3'].filter((n) => names(ctx, n).some((c) => /cluster show/.test(c)));
  // before any facts: config.yml's primary
  assert.deepEqual(showOn(sampleContext()), ['main-1']);
  for (const n of ['main-1', 'main-2', 'main-3'])
    assert.ok(names(sampleContext(), n).includes('repmgrd is running'));
  // after a failover: the promoted node
  const S = '7300000000000000001';
  const failedOver = sampleContext({
    'main-1': emptyFacts('main-1'),
    'main-2': serverFacts('main-2', 'primary', 2, S),
    'main-3': serverFacts('main-3', 'standby', 2, S),
  });
  assert.deepEqual(showOn(failedOver), ['main-2']);
});

void test("starting a stopped standby is declared as a start of the server's unit (no restart after it)", () => {
  const startOf = (unitState: string) =>
    action(
      repmgrComponent.desired(
        host('main-2'),
        sampleContext({ 'main-2': emptyFacts('main-2', { [UNIT_PROBE]: unitState }) }),
      ),
      'repmgr-start-standby',
    );
  assert.equal(startOf('active=0 enabled=0').starts, 'postgresql@15-main');
  // running already (only the enable is missing): configuration changes still need their restart
  assert.equal(startOf('active=1 enabled=0').starts, undefined);
});
