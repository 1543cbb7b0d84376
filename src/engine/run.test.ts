/**
 * The engine against fake hosts: an in-memory model of each host that the fake transport
 * changes as the commands arrive, so convergence, handler counts and restart order are
 * observable. (Real hosts: the fact script test and the integration tests in test/.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectingSink } from '../core/events.ts';
import { OperationError, RemoteCommandError } from '../core/errors.ts';
import type { Component } from '../components/component.ts';
import type { ExecOptions, ExecResult, Transport, UploadOptions } from '../transport/transport.ts';
import type { HostFacts, Resource } from '../plan/types.ts';
import type { InventoryHost } from '../platforms/platform.ts';
import { sha256, countChanges } from '../plan/diff.ts';
import { computePlan, deploy, type EngineInput } from './run.ts';
import type { FactRequest } from './fact-script.ts';
import { HANDLER_SKIPPED } from './commands.ts';
import { testHost } from '../../test/support/fixtures.ts';

interface HostModel {
  packages: Record<string, string>;
  files: Record<string, { content: string; mode: number; owner: string; group: string }>;
  services: Record<string, { active: boolean; enabled: boolean }>;
  pg?: { inRecovery: boolean; maxConnections: string; systemIdentifier: string };
  pendingHandlers: string[];
}

const log: { host: string; command: string }[] = [];

class FakeHost implements Transport {
  model: HostModel = { packages: {}, files: {}, services: {}, pendingHandlers: [] };
  failOn: RegExp | undefined;
  failStderr = 'E: something broke';
  constructor(readonly host: string) {}

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    log.push({ host: this.host, command });
    const m = this.model;
    if (this.failOn?.test(command)) {
      const redacted = (opts.redact ?? []).reduce((s, x) => s.split(x).join('***'), this.failStderr);
      return Promise.reject(
        new RemoteCommandError({ host: this.host, command, exitCode: 100, stderr: redacted }),
      );
    }
    const guard = /^if systemctl is-active --quiet -- (\S+); then/.exec(command);
    if (guard && !(guard[1] === 'postgresql' ? m.pg : m.services[guard[1]!]?.active)) {
      return Promise.resolve({ stdout: `${HANDLER_SKIPPED}\n`, stderr: '', exitCode: 0, signal: null });
    }
    for (const [, pkgs] of command.matchAll(/install (.+)$/gm)) {
      for (const p of pkgs!.split(' ')) m.packages[p] = '1.0';
    }
    for (const [, verb, unit] of command.matchAll(
      /systemctl (enable|start|restart) (?:--no-reload )?(?:--quiet )?-- (\S+)/g,
    )) {
      const s = (m.services[unit!] ??= { active: false, enabled: false });
      if (verb === 'enable') s.enabled = true;
      if (verb === 'start') s.active = true;
      if (verb === 'restart' && unit === 'postgresql' && m.pg) {
        m.pg.maxConnections =
          /max_connections = (\d+)/.exec(m.files['/etc/pg.conf']?.content ?? '')?.[1] ?? '100';
      }
    }
    for (const [, h] of command.matchAll(/echo (\S+) >> \/var\/lib\/tpa\/pending-handlers/g)) {
      m.pendingHandlers.push(h!);
    }
    if (command.includes('rm -f /var/lib/tpa/pending-handlers')) m.pendingHandlers = [];
    // a server coming back takes a while: a restart of the next host before it would show
    if (command === 'wait-back') {
      return new Promise((r) =>
        setTimeout(() => r({ stdout: '', stderr: '', exitCode: 0, signal: null }), 20),
      );
    }
    return Promise.resolve({ stdout: '', stderr: '', exitCode: 0, signal: null });
  }

  upload(path: string, content: string | Buffer, opts: UploadOptions = {}): Promise<void> {
    log.push({ host: this.host, command: `upload ${path}` });
    this.model.files[path] = {
      content: content.toString(),
      mode: opts.mode ?? 0o644,
      owner: opts.owner ?? 'root',
      group: opts.group ?? 'root',
    };
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function gather(t: Transport, _req: FactRequest): Promise<HostFacts> {
  const m = (t as FakeHost).model;
  return Promise.resolve({
    host: t.host,
    reachable: true,
    packages: { ...m.packages },
    files: Object.fromEntries(
      Object.entries(m.files).map(([p, f]) => [
        p,
        { sha256: sha256(f.content), mode: f.mode, owner: f.owner, group: f.group, content: f.content },
      ]),
    ),
    directories: {},
    services: structuredClone(m.services),
    probes: {},
    ...(m.pendingHandlers.length
      ? { pendingHandlers: [...m.pendingHandlers] as HostFacts['pendingHandlers'] }
      : {}),
    ...(m.pg
      ? {
          postgres: {
            running: true,
            inRecovery: m.pg.inRecovery,
            version: '15',
            systemIdentifier: m.pg.systemIdentifier,
            settings: {
              max_connections: {
                setting: m.pg.maxConnections,
                context: 'postmaster',
                pendingRestart: false,
                unit: null,
                vartype: 'integer',
              },
              work_mem: {
                setting: '4096',
                context: 'user',
                pendingRestart: false,
                unit: 'kB',
                vartype: 'integer',
              },
            },
            roles: {},
            databases: [],
          },
        }
      : {}),
  });
}

/** what the fake components want; tests change it between deploys */
const want = {
  maxConnections: '100',
  appConf: 'a=1\n',
  secondFileNotifies: true,
  register: false,
  waitBack: false,
};

const base: Component = {
  name: 'base',
  appliesTo: () => true,
  desired: () => [
    {
      phase: 'common',
      resources: [
        { kind: 'package', name: 'pkg-a' },
        { kind: 'package', name: 'pkg-b' },
        {
          kind: 'file',
          path: '/etc/app.conf',
          content: want.appConf,
          mode: 0o644,
          owner: 'root',
          group: 'root',
          notify: ['reload:app'],
        },
        {
          kind: 'file',
          path: '/etc/app2.conf',
          content: want.appConf,
          mode: 0o644,
          owner: 'root',
          group: 'root',
          ...(want.secondFileNotifies ? { notify: ['reload:app' as const] } : {}),
        },
        { kind: 'service', name: 'app', state: 'running', enabled: true },
      ],
    },
  ],
};

const pg: Component = {
  name: 'pg',
  appliesTo: (h) => h.kind === 'postgres',
  afterRestart: (_h, unit) => (want.waitBack && unit === 'postgresql' ? 'wait-back' : undefined),
  restartGuard: (h, unit) =>
    want.waitBack && unit === 'postgresql' && h.role === 'primary'
      ? { what: 'manager paused', before: 'pause-manager', after: 'resume-manager' }
      : undefined,
  desired: (h) => {
    const resources: Resource[] = [
      {
        kind: 'file',
        path: '/etc/pg.conf',
        content: `max_connections = ${want.maxConnections}\n`,
        mode: 0o644,
        owner: 'root',
        group: 'root',
        notify: ['reload:postgresql'],
      },
      { kind: 'pg-setting', name: 'max_connections', value: want.maxConnections, unit: 'postgresql' },
    ];
    if (want.register && h.role === 'primary') {
      resources.push({
        kind: 'action',
        id: 'register',
        description: 'register-now',
        command: 'register-now',
        needed: () => true,
        afterHandlers: true,
      });
    }
    return [{ phase: h.role === 'primary' ? 'postgres-primary' : 'postgres-replicas', resources }];
  },
};

const inv = (name: string, role: 'primary' | 'replica', upstream?: string): InventoryHost =>
  testHost({ name, role, upstream, address: `10.0.0.${name.length}`, volumeGb: 10 });

function cluster() {
  log.length = 0;
  Object.assign(want, {
    maxConnections: '100',
    appConf: 'a=1\n',
    secondFileNotifies: true,
    register: false,
    waitBack: false,
  });
  const hosts = { p: new FakeHost('p'), r1: new FakeHost('r1'), r2: new FakeHost('r2') };
  const events = collectingSink();
  const input: EngineInput = {
    components: [base, pg],
    context: {
      config: {} as EngineInput['context']['config'],
      inventory: {
        group: 'g',
        platform: 'bare',
        hosts: [inv('p', 'primary'), inv('r1', 'replica', 'p'), inv('r2', 'replica', 'p')],
      },
      secrets: { pw: 'sekrit-password' },
    },
    transports: hosts,
    events,
    concurrency: 4,
    redact: ['sekrit-password'],
    gather,
  };
  return { hosts, events, input };
}

/** a running, converged cluster: postgres everywhere, replicas in recovery */
async function converged() {
  const c = cluster();
  await deploy(c.input);
  for (const h of Object.values(c.hosts)) {
    h.model.pg = { inRecovery: h.host !== 'p', maxConnections: '100', systemIdentifier: '42' };
  }
  log.length = 0;
  return c;
}

const commands = (re: RegExp) =>
  log.filter((l) => re.test(l.command)).map((l) => `${l.host}: ${re.exec(l.command)?.[0]}`);

void test('a first deploy applies everything in phase order; the second finds nothing to do', async () => {
  const { input, events } = cluster();
  const out = await deploy(input);
  assert.equal(
    out.applied.length,
    3 * (5 + 1),
    'common: 2 packages (one apt run), 2 files, a service; pg: 1 file',
  );
  assert.deepEqual(commands(/apt-get .* install pkg-a pkg-b/).length, 3, 'one apt run per host');
  const phases = events.events
    .filter((e) => e.kind === 'phase-started')
    .map((e) => e.kind === 'phase-started' && e.phase);
  assert.deepEqual(phases, ['common', 'postgres-primary', 'postgres-replicas']);
  // the unit was started after its configuration was written: no reload on top
  assert.deepEqual(commands(/systemctl reload -- app/), []);

  log.length = 0;
  const again = await computePlan(input);
  assert.equal(countChanges(again.plan), 0);
  const second = await deploy(input);
  assert.equal(second.applied.length, 0);
  assert.deepEqual(log, [], 'no command at all when nothing changed');
});

void test('a handler notified by several changes runs once per host', async () => {
  const { input } = await converged();
  want.appConf = 'a=2\n';
  await deploy(input);
  assert.deepEqual(commands(/systemctl reload -- app/).sort(), [
    'p: systemctl reload -- app',
    'r1: systemctl reload -- app',
    'r2: systemctl reload -- app',
  ]);
});

void test('a postmaster setting restarts the replicas first, then the primary, once each', async () => {
  const { input } = await converged();
  want.maxConnections = '200';
  const out = await deploy(input);
  const restarts = commands(/systemctl restart -- postgresql/);
  assert.equal(restarts.length, 3, restarts.join('; '));
  assert.equal(restarts[2], 'p: systemctl restart -- postgresql', 'primary last');
  // restart supersedes the reload the file notified
  assert.deepEqual(commands(/systemctl reload -- postgresql/), []);
  // the primary's restart waited for the replica phase
  const primaryConf = log.findIndex((l) => l.host === 'p' && l.command === 'upload /etc/pg.conf');
  const replicaConf = log.findIndex((l) => l.host === 'r1' && l.command === 'upload /etc/pg.conf');
  const primaryRestart = log.findIndex((l) => l.host === 'p' && l.command.includes('restart'));
  assert.ok(primaryConf < replicaConf && replicaConf < primaryRestart);
  assert.equal(out.handlers.length, 3);
  assert.equal(countChanges((await computePlan(input)).plan), 0, 'converged after one deploy');
});

void test('restarts roll: one host at a time, each waited for (back and streaming) before the next', async () => {
  const { input } = await converged();
  want.waitBack = true;
  want.maxConnections = '200';
  await deploy(input);
  const steps = log
    .filter((l) => /systemctl restart -- postgresql|^wait-back$/.test(l.command))
    .map((l) => `${l.host} ${l.command === 'wait-back' ? 'back' : 'restart'}`);
  assert.deepEqual(steps, ['r1 restart', 'r1 back', 'r2 restart', 'r2 back', 'p restart', 'p back']);
  // the primary's restart runs with the failover manager paused
  const onPrimary = log
    .filter(
      (l) => l.host === 'p' && /pause-manager|resume-manager|systemctl restart -- postgresql/.test(l.command),
    )
    .map((l) => (l.command.includes('restart --') ? 'restart' : l.command));
  assert.deepEqual(onPrimary, ['pause-manager', 'restart', 'resume-manager']);
  assert.ok(!log.some((l) => l.host !== 'p' && l.command === 'pause-manager'), 'only around the primary');
});

void test("a primary's restart that fails still resumes the failover manager", async () => {
  const { input, hosts } = await converged();
  want.waitBack = true;
  want.maxConnections = '300';
  hosts.p.failOn = /systemctl restart -- postgresql/;
  await assert.rejects(deploy(input));
  const onPrimary = log
    .filter(
      (l) =>
        l.host === 'p' && /pause-manager|resume-manager|systemctl (re)?start -- postgresql/.test(l.command),
    )
    .map((l) =>
      /systemctl restart/.test(l.command)
        ? 'restart'
        : /systemctl start/.test(l.command)
          ? 'start'
          : l.command,
    );
  assert.deepEqual(onPrimary, ['pause-manager', 'restart', 'start', 'resume-manager']);
});

void test('a server that does not start with its new configuration gets it back and runs; the others are not restarted and get theirs back', async () => {
  const { input, hosts, events } = await converged();
  want.maxConnections = '200';
  hosts.r1.failOn = /systemctl restart -- postgresql/;
  let message = '';
  await assert.rejects(deploy(input), (e: unknown) => {
    message = (e as Error).message;
    return true;
  });
  assert.match(
    message,
    /r1: postgresql did not start with the new configuration; its previous configuration is back and it runs again/,
  );
  assert.match(message, /r2: not restarted; its previous configuration files are back/);
  assert.match(message, /p: not restarted; its previous configuration files are back/);
  for (const h of Object.values(hosts)) {
    assert.equal(h.model.files['/etc/pg.conf']?.content, 'max_connections = 100\n', h.host);
    assert.deepEqual(h.model.pendingHandlers, [], `${h.host}: nothing left to run`);
  }
  assert.deepEqual(commands(/systemctl restart -- postgresql/), ['r1: systemctl restart -- postgresql']);
  assert.deepEqual(commands(/systemctl start -- postgresql/), ['r1: systemctl start -- postgresql']);
  assert.ok(events.events.some((e) => e.kind === 'task' && e.host === 'r1' && /roll back/.test(e.task)));
  // the previous configuration is what config.yml says again: nothing to do
  hosts.r1.failOn = undefined;
  want.maxConnections = '100';
  assert.equal(countChanges((await computePlan(input)).plan), 0);
});

void test('a failing host stops; the others finish the phase; the error names host and step, redacted', async () => {
  const { input, hosts, events } = cluster();
  hosts.r2.failOn = /apt-get/;
  hosts.r2.failStderr = 'E: could not use sekrit-password';
  await assert.rejects(deploy(input), (e: unknown) => {
    assert.ok(e instanceof OperationError);
    assert.equal(e.host, 'r2');
    assert.equal(e.step, 'install pkg-a');
    assert.match(e.message, /phase common failed: command failed \(exit code 100\)/);
    assert.ok(!e.message.includes('sekrit-password'));
    assert.match(e.message, /could not use \*\*\*/);
    return true;
  });
  assert.ok(
    hosts.p.model.services.app?.active && hosts.r1.model.services.app?.active,
    'other hosts finished',
  );
  assert.equal(hosts.r2.model.files['/etc/app.conf'], undefined, 'r2 stopped at the failure');
  assert.deepEqual(commands(/upload \/etc\/pg.conf/), [], 'no later phase ran');
  const failed = events.events.filter((e) => e.kind === 'task' && e.status === 'failed');
  assert.equal(failed.length, 1);
});

void test('handlers a failure left pending are remembered on the host and run by the next deploy', async () => {
  const { input, hosts } = await converged();
  want.appConf = 'a=3\n';
  hosts.r1.failOn = /systemctl reload -- app/;
  await assert.rejects(deploy(input), /phase common failed/);
  assert.deepEqual(hosts.r1.model.pendingHandlers, ['reload:app']);
  // the primary's handlers wait for the replicas', so its reload did not run either
  assert.deepEqual(hosts.p.model.pendingHandlers, ['reload:app']);
  assert.deepEqual(hosts.r2.model.pendingHandlers, [], 'r2 reloaded');
  hosts.r1.failOn = undefined;
  log.length = 0;
  const plan = (await computePlan(input)).plan;
  assert.deepEqual(plan.hosts.flatMap((h) => h.changes.map((c) => `${h.host}: ${c.summary}`)).sort(), [
    'p: run what an earlier deploy left pending: reload:app',
    'r1: run what an earlier deploy left pending: reload:app',
  ]);
  await deploy(input);
  assert.deepEqual(commands(/systemctl reload -- app/).sort(), [
    'p: systemctl reload -- app',
    'r1: systemctl reload -- app',
  ]);
  assert.deepEqual(hosts.r1.model.pendingHandlers, []);
  assert.deepEqual(hosts.p.model.pendingHandlers, []);
});

void test('a refusal stops the deploy before any command runs', async () => {
  const { input, hosts } = await converged();
  hosts.p.model.pg!.inRecovery = true;
  want.appConf = 'changed\n';
  await assert.rejects(deploy(input), (e: unknown) => {
    assert.ok(e instanceof OperationError);
    assert.match(e.message, /refused, nothing was changed/);
    assert.match(e.message, /never promotes/);
    return true;
  });
  assert.deepEqual(log, []);
});

void test('reload and restart of one unit in one phase: only the restart runs', async () => {
  const { input } = await converged();
  want.maxConnections = '300';
  await deploy(input);
  for (const h of ['p', 'r1', 'r2']) {
    const mine = log.filter((l) => l.host === h && /systemctl (reload|restart)/.test(l.command));
    assert.equal(mine.length, 1, `${h}: ${mine.map((m) => m.command).join(' | ')}`);
  }
});

void test('an action with afterHandlers runs after the handlers notified before it, which then do not run again', async () => {
  const { input } = await converged();
  want.maxConnections = '250';
  want.register = true;
  const out = await deploy(input);
  const onPrimary = log
    .filter((l) => l.host === 'p' && /restart|register-now/.test(l.command))
    .map((l) => (l.command.includes('systemctl restart -- postgresql') ? 'restart postgresql' : l.command));
  assert.deepEqual(onPrimary, ['restart postgresql', 'register-now']);
  assert.equal(out.handlers.filter((h) => h.host === 'p').length, 1);
});

void test('a handler of a unit that is not running is reported as skipped, not as a change', async () => {
  const { input, hosts, events } = await converged();
  for (const h of Object.values(hosts)) h.model.services.app!.active = false;
  // the service is to run: starting it cancels the reload, so make it stopped-by-design here
  want.appConf = 'a=4\n';
  const stoppedApp: Component = {
    name: 'base',
    appliesTo: () => true,
    desired: (h, ctx) =>
      base.desired(h, ctx).map((p) => ({
        ...p,
        resources: p.resources.map((r) => (r.kind === 'service' ? { ...r, state: 'stopped' as const } : r)),
      })),
  };
  const before = events.events.length;
  const out = await deploy({ ...input, components: [stoppedApp, pg] });
  assert.equal(out.handlers.length, 0);
  const skipped = events.events.slice(before).filter((e) => e.kind === 'task' && e.status === 'skipped');
  assert.equal(skipped.length, 3);
});

void test('an action that starts a unit drops the restarts of it notified before it, like a service start', async () => {
  const { input } = await converged();
  want.maxConnections = '300';
  const withStart = (starts: string | undefined): Component => ({
    name: 'starter',
    appliesTo: (h) => h.role === 'primary',
    desired: () => [
      {
        phase: 'postgres-primary',
        resources: [
          {
            kind: 'action',
            id: 'start-it',
            description: 'start-it-now',
            command: 'start-it-now',
            needed: () => true,
            ...(starts ? { starts } : {}),
          },
        ],
      },
    ],
  });
  const restartsOnPrimary = () =>
    log.filter((l) => l.host === 'p' && /systemctl (restart|reload) -- postgresql/.test(l.command)).length;
  // the pg file notifies a reload; the action that starts postgresql comes after it
  await deploy({ ...input, components: [base, pg, withStart('postgresql')] });
  assert.equal(restartsOnPrimary(), 0, 'the start read the new file');
  log.length = 0;
  want.maxConnections = '400';
  await deploy({ ...input, components: [base, pg, withStart(undefined)] });
  assert.equal(restartsOnPrimary(), 1, 'without `starts` the handler runs');
});

void test('a deploy limited to some hosts neither asks nor changes the others, and can leave its checks out', async () => {
  const { input } = await converged();
  want.appConf = 'a=3\n';
  const asked: string[] = [];
  const limited: EngineInput = {
    ...input,
    context: { ...input.context, only: ['p', 'r1'] },
    skipChecks: true,
    gather: (t, req) => {
      asked.push(t.host);
      return gather(t, req);
    },
  };
  const out = await deploy(limited);
  assert.deepEqual([...new Set(asked)].sort(), ['p', 'r1']);
  assert.deepEqual([...new Set(out.applied.map((c) => c.host))].sort(), ['p', 'r1']);
  assert.deepEqual(
    log.filter((l) => l.host === 'r2'),
    [],
    'r2 was not touched',
  );
  // the whole group afterwards: only r2 is left to change
  const rest = await deploy(input);
  assert.deepEqual([...new Set(rest.applied.map((c) => c.host))], ['r2']);
});
