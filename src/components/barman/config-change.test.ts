/**
 * Changing backup.retention or backup.schedule in config.yml: deploy rewrites the backup
 * host's server files and cron file and nothing else, anywhere; barman reads its
 * configuration at each invocation (`barman cron` every minute applies the retention policy,
 * `barman backup` from cron reads it too), so nothing is restarted. A second deploy changes
 * nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { components } from '../registry.ts';
import { desiredState } from '../../engine/desired.ts';
import { diff, sha256 } from '../../plan/diff.ts';
import { ClusterGroupSchema } from '../../model/schema.ts';
import type { DesiredHost, HostFacts, Resource } from '../../plan/types.ts';
import type { Inventory, InventoryHost } from '../../platforms/platform.ts';
import type { DeployContext } from '../component.ts';
import { testFacts, testHost, testInventory } from '../../../test/support/fixtures.ts';
import { barmanComponent } from './index.ts';
import { MANAGED_CONF_PROBE } from './retire.ts';
import { BARMAN_STATE_PROBE } from './state.ts';

const ADDR: Record<string, string> = {
  'main-1': '10.0.3.11',
  'main-2': '10.0.3.12',
  'rep-1': '10.0.3.21',
  'backup-1': '10.0.3.31',
};

function config(backup: { schedule: string; retention: string }) {
  return ClusterGroupSchema.parse({
    name: 'acme',
    backup: { mode: 'shared', ...backup },
    clusters: [
      {
        name: 'main',
        nodes: [
          { name: 'main-1', role: 'primary' },
          { name: 'main-2', role: 'replica' },
        ],
      },
      { name: 'rep', nodes: [{ name: 'rep-1', role: 'primary' }] },
    ],
    services: [{ name: 'backup-1', role: 'barman' }],
  });
}

const host = (name: string, over: Partial<InventoryHost> = {}) =>
  testHost({ name, address: ADDR[name]!, ...over });

const inventory: Inventory = testInventory([
  host('main-1'),
  host('main-2', { role: 'replica' }),
  host('rep-1', { cluster: 'rep' }),
  host('backup-1', { role: 'barman' }),
]);

// every secret a component asks for exists, with a value derived from its name
const secrets: Record<string, string> = new Proxy(
  {},
  {
    get: (_t, name) => (typeof name === 'string' ? `secret-of-${name}` : undefined),
  },
);

const BEFORE = { schedule: '0 2 * * *', retention: 'RECOVERY WINDOW OF 7 DAYS' };
const AFTER = { schedule: '30 3 * * *', retention: 'recovery window of 14 days' };

function ctx(backup: typeof BEFORE, facts: Record<string, HostFacts> = {}): DeployContext {
  return { config: config(backup), inventory, secrets, facts };
}

// a role's verifier gets a fresh salt when no host facts hold one to keep (roles.ts)
const plain = (r: Resource) =>
  JSON.stringify(r, (k, v: unknown) => (typeof v === 'function' || k === 'verifier' ? undefined : v));

void test('over every component and host, only the server files and the cron file differ', () => {
  const before = desiredState(components, ctx(BEFORE));
  const after = desiredState(components, ctx(AFTER));
  const changed: string[] = [];
  for (const a of after) {
    const b = before.find((x) => x.host === a.host)!;
    const was = new Set(b.phases.flatMap((p) => p.resources.map(plain)));
    for (const p of a.phases)
      for (const r of p.resources)
        if (!was.has(plain(r))) changed.push(`${a.host} ${p.phase} ${r.kind === 'file' ? r.path : r.kind}`);
    assert.equal(
      a.phases.flatMap((p) => p.resources).length,
      b.phases.flatMap((p) => p.resources).length,
      `${a.host}: nothing added or removed`,
    );
  }
  assert.deepEqual(changed.sort(), [
    'backup-1 backups /etc/barman.d/main.conf',
    'backup-1 backups /etc/barman.d/rep.conf',
    'backup-1 backups /etc/cron.d/tpa-barman',
  ]);
});

/** a backup host on which `desired` is in place, barman streaming and backed up */
function convergedFacts(d: DesiredHost): HostFacts {
  const f = testFacts(d.host, {
    probes: {
      [BARMAN_STATE_PROBE]: [
        'server=main receive=1 wals=9 backups=1 last=1795364876 host=10.0.3.11',
        'server=rep receive=1 wals=9 backups=1 last=1795364876 host=10.0.3.21',
      ].join('\n'),
      [MANAGED_CONF_PROBE]: 'server=main backups=1\nserver=rep backups=1\ncron=1',
    },
  });
  for (const r of d.phases.flatMap((p) => p.resources)) {
    if (r.kind === 'package') f.packages[r.name] = '1';
    if (r.kind === 'service') f.services[r.name] = { active: r.state === 'running', enabled: r.enabled };
    if (r.kind === 'directory') f.directories[r.path] = { mode: r.mode, owner: r.owner, group: r.group };
    if (r.kind === 'file')
      f.files[r.path] = {
        sha256: sha256(r.content),
        mode: r.mode,
        owner: r.owner,
        group: r.group,
        content: r.content,
      };
  }
  return f;
}

function backupHostDesired(c: DeployContext): DesiredHost {
  return desiredState([barmanComponent], c).find((d) => d.host === 'backup-1')!;
}

void test('the plan on the backup host: three file updates with their diffs, no action, no restart', () => {
  const facts = { 'backup-1': convergedFacts(backupHostDesired(ctx(BEFORE))) };
  const plan = diff([backupHostDesired(ctx(AFTER, facts))], facts);
  const changes = plan.hosts.flatMap((h) => h.changes);
  assert.deepEqual(
    changes.map((c) => c.summary),
    ['update /etc/barman.d/main.conf', 'update /etc/barman.d/rep.conf', 'update /etc/cron.d/tpa-barman'],
  );
  for (const c of changes) assert.equal(c.notify, undefined, `${c.summary}: nothing to restart or reload`);
  const conf = changes[0]!.diff!;
  assert.match(conf, /^-retention_policy = RECOVERY WINDOW OF 7 DAYS$/m);
  assert.match(conf, /^\+retention_policy = RECOVERY WINDOW OF 14 DAYS$/m);
  assert.equal(conf.split('\n').filter((l) => /^[-+][^-+]/.test(l)).length, 2, 'only the retention line');
  const cron = changes[2]!.diff!;
  assert.match(cron, /^-0 2 \* \* \* barman .*backup main$/m);
  assert.match(cron, /^\+30 3 \* \* \* barman .*backup main$/m);
  assert.match(cron, /^\+30 3 \* \* \* barman .*backup rep$/m);
});

void test('a second deploy after the change has nothing to do', () => {
  const facts = { 'backup-1': convergedFacts(backupHostDesired(ctx(AFTER))) };
  const plan = diff([backupHostDesired(ctx(AFTER, facts))], facts);
  assert.deepEqual(
    plan.hosts.flatMap((h) => h.changes.map((c) => c.summary)),
    [],
  );
});
