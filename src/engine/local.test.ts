/**
 * The real fact script and real uploads through LocalTransport, on files and directories in
 * a temporary directory: facts, plan, apply, converge, drift.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { collectingSink } from '../core/events.ts';
import type { Component } from '../components/component.ts';
import { countChanges } from '../plan/diff.ts';
import { LocalTransport } from '../transport/local.ts';
import type { InventoryHost } from '../platforms/platform.ts';
import { computePlan, deploy, type EngineInput } from './run.ts';

const root = await mkdtemp(join(tmpdir(), 'tpa-engine-'));
after(() => rm(root, { recursive: true, force: true }));

const owner = userInfo().username;
const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
const want = { conf: 'listen = 1\nport = 2\n' };

const component: Component = {
  name: 'files',
  appliesTo: () => true,
  probes: () => ({ marker: `cat ${join(root, 'etc', 'marker')} 2>/dev/null || echo none` }),
  desired: (_h, ctx) => [
    {
      phase: 'common',
      resources: [
        { kind: 'package', name: 'coreutils' },
        { kind: 'directory', path: join(root, 'etc'), mode: 0o750, owner, group },
        { kind: 'file', path: join(root, 'etc', 'app.conf'), content: want.conf, mode: 0o640, owner, group },
        {
          kind: 'file',
          path: join(root, 'etc', 'secret'),
          content: 'pw=s3cret-value\n',
          mode: 0o600,
          owner,
          group,
          secret: true,
        },
        {
          kind: 'action',
          id: 'marker',
          description: 'write the marker',
          command: `echo written > ${join(root, 'etc', 'marker')}`,
          needed: (f) => f.probes.marker !== 'written' && ctx.facts['local'] !== undefined,
        },
      ],
    },
  ],
};

const host: InventoryHost = {
  name: 'local',
  kind: 'postgres',
  cluster: 'c',
  role: 'primary',
  address: '127.0.0.1',
  sshUser: owner,
  sshPort: 22,
  instanceType: 'x',
  cpus: 1,
  memoryMb: 1,
  volumeGb: 1,
};

const input: EngineInput = {
  components: [component],
  context: {
    config: {} as EngineInput['context']['config'],
    inventory: { group: 'g', platform: 'bare', hosts: [host] },
    secrets: {},
  },
  transports: { local: new LocalTransport({ host: 'local' }) },
  events: collectingSink(),
  concurrency: 2,
  redact: ['s3cret-value'],
};

void test('plan, apply, converge, then drift is detected with a real diff', async () => {
  const first = await computePlan(input);
  assert.deepEqual(
    first.plan.hosts[0]!.changes.map((c) => c.summary),
    [
      `create directory ${root}/etc`,
      `create ${root}/etc/app.conf`,
      `create ${root}/etc/secret (secret)`,
      'write the marker',
    ],
    'coreutils is installed already',
  );
  assert.ok(!JSON.stringify(first.plan.hosts[0]!.changes.map((c) => c.diff)).includes('s3cret-value'));

  const out = await deploy(input);
  assert.equal(out.applied.length, 4);
  assert.equal(await readFile(join(root, 'etc', 'app.conf'), 'utf8'), want.conf);
  assert.equal((await stat(join(root, 'etc', 'secret'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(root, 'etc'))).mode & 0o777, 0o750);

  const second = await computePlan(input);
  assert.equal(
    countChanges(second.plan),
    0,
    JSON.stringify(second.plan.hosts[0]!.changes.map((c) => c.summary)),
  );
  assert.equal(second.facts.local!.probes.marker, 'written');

  // drift: someone edits the file and loosens the secret's mode
  await writeFile(join(root, 'etc', 'app.conf'), 'listen = 1\nport = 3\n');
  await chmod(join(root, 'etc', 'secret'), 0o644);
  const drift = await computePlan(input);
  const [conf, secret] = drift.plan.hosts[0]!.changes;
  assert.equal(conf?.summary, `update ${root}/etc/app.conf`);
  assert.match(conf?.diff ?? '', /^-port = 3$/m);
  assert.match(conf?.diff ?? '', /^\+port = 2$/m);
  assert.equal(secret?.summary, `update ${root}/etc/secret (mode 0644 -> 0600)`);

  await deploy(input);
  assert.equal(countChanges((await computePlan(input)).plan), 0);
});
