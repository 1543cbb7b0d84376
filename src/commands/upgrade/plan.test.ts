import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../core/errors.ts';
import type { StatusReport, StatusRow } from '../status/index.ts';
import { parseConfig } from '../../model/parse.ts';
import { planUpgrade, type NodePackages } from './plan.ts';
import { compareVersions } from '../../plan/debian-version.ts';

const OLD = '15.18-0+deb12u1';
const NEW = '15.20-0+deb12u1';
const PKG = 'postgresql-15';

const config = (extra = '') => {
  const r = parseConfig(
    `name: g
${extra}clusters:
  - name: main
    nodes:
      - { name: main-1, role: primary }
      - { name: main-2, role: replica }
      - { name: main-3, role: replica, upstream: main-2 }
  - name: solo
    failover_manager: none
    nodes:
      - { name: solo-1, role: primary }
`,
    'config.yml',
  );
  assert.deepEqual(r.errors, []);
  return r.config!;
};

const row = (node: string, extra: Partial<StatusRow> = {}): StatusRow => ({
  cluster: node.split('-')[0]!,
  node,
  address: '10.0.0.1',
  configuredRole: 'replica',
  role: 'replica',
  state: 'running',
  upstream: 'main-1',
  receiver: 'streaming',
  version: '15.18',
  ...extra,
});
const status = (rows: Record<string, Partial<StatusRow>> = {}): StatusReport => ({
  group: 'g',
  primaries: { main: 'main-1', solo: 'solo-1' },
  nodes: [
    row('main-1', { role: 'primary', upstream: undefined, receiver: undefined, ...rows['main-1'] }),
    row('main-2', rows['main-2']),
    row('main-3', { upstream: 'main-2', ...rows['main-3'] }),
    row('solo-1', { role: 'primary', upstream: undefined, receiver: undefined, ...rows['solo-1'] }),
  ],
});
const pkgs = (installed: Record<string, string> = {}, offered = [NEW, OLD]): NodePackages[] =>
  ['main-1', 'main-2', 'main-3', 'solo-1'].map((node) => {
    const v = installed[node] ?? OLD;
    return { node, installed: { [PKG]: v, 'postgresql-client-15': v, libpq5: v }, offered };
  });
const usage = (re: RegExp) => (e: unknown) =>
  e instanceof UsageError && e.exitCode === 2 && re.test(e.message);

void test('the newest version the mirrors offer; standbys deepest first, then a switchover', () => {
  const p = planUpgrade(config(), status(), pkgs(), PKG, { cluster: 'main' });
  assert.equal(p.target, NEW);
  assert.deepEqual(p.clusters, [
    {
      name: 'main',
      primary: 'main-1',
      standbys: ['main-3', 'main-2'],
      primaryNeeds: true,
      switchover: true,
      done: [],
    },
  ]);
  assert.deepEqual(p.pin, { scope: 'cluster', cluster: 'main' });
  assert.equal(p.pinned, false);
  assert.equal(p.before['main-1'], OLD);
});

void test('--to as a release or a whole version; a version the mirror lacks is refused naming the node', () => {
  assert.equal(planUpgrade(config(), status(), pkgs(), PKG, { cluster: 'main', to: '15.20' }).target, NEW);
  assert.equal(planUpgrade(config(), status(), pkgs(), PKG, { cluster: 'main', to: OLD }).target, OLD);
  const partial = pkgs().map((p) => (p.node === 'main-3' ? { ...p, offered: [OLD] } : p));
  assert.throws(
    () => planUpgrade(config(), status(), partial, PKG, { cluster: 'main', to: '15.20' }),
    usage(/15\.20 is not in the package mirror of main-3: it offers 15\.18-0\+deb12u1/),
  );
  assert.throws(
    () => planUpgrade(config(), status(), pkgs(), PKG, { cluster: 'main', to: '15.21' }),
    usage(/15\.21 is not in the package mirror of main-1/),
  );
});

void test('refused: a downgrade, a node down, a standby not streaming, an unknown cluster', () => {
  assert.throws(
    () => planUpgrade(config(), status(), pkgs({ 'main-2': NEW }), PKG, { cluster: 'main', to: OLD }),
    usage(
      /main-2 runs postgresql-15 15\.20-0\+deb12u1, newer than 15\.18-0\+deb12u1: tpa upgrade does not downgrade/,
    ),
  );
  assert.throws(
    () => planUpgrade(config(), status({ 'main-3': { state: 'stopped' } }), pkgs(), PKG, {}),
    usage(/main-3 is stopped: a rolling upgrade needs every node of cluster main running/),
  );
  assert.throws(
    () => planUpgrade(config(), status({ 'main-2': { receiver: 'catchup' } }), pkgs(), PKG, {}),
    usage(/main-2 does not stream \(catchup\)/),
  );
  assert.throws(
    () => planUpgrade(config(), status(), pkgs(), PKG, { cluster: 'nope' }),
    usage(/no cluster nope/),
  );
});

void test('a primary with no standby needs --no-switchover; then it restarts in place', () => {
  assert.throws(
    () => planUpgrade(config(), status(), pkgs(), PKG, { cluster: 'solo' }),
    usage(/cluster solo has no standby to hand its primary solo-1 over to/),
  );
  const p = planUpgrade(config(), status(), pkgs(), PKG, { cluster: 'solo', noSwitchover: true });
  assert.deepEqual(p.clusters[0], {
    name: 'solo',
    primary: 'solo-1',
    standbys: [],
    primaryNeeds: true,
    switchover: false,
    done: [],
  });
});

void test('half done: only the nodes not at the version; all done and pinned: nothing to do', () => {
  const half = planUpgrade(
    config(),
    status({ 'main-3': { version: '15.20' } }),
    pkgs({ 'main-3': NEW }),
    PKG,
    { cluster: 'main' },
  );
  assert.deepEqual(half.clusters[0]?.standbys, ['main-2']);
  assert.deepEqual(half.clusters[0]?.done, ['main-3']);
  // installed but still running the old binaries: not done
  const notRestarted = planUpgrade(config(), status(), pkgs({ 'main-3': NEW }), PKG, { cluster: 'main' });
  assert.deepEqual(notRestarted.clusters[0]?.standbys, ['main-3', 'main-2']);
  const all = Object.fromEntries(
    ['main-1', 'main-2', 'main-3', 'solo-1'].map((n) => [n, { version: '15.20' }]),
  );
  const done = planUpgrade(
    config(`postgres:\n  package_version: ${NEW}\n`),
    status(all),
    pkgs({ 'main-1': NEW, 'main-2': NEW, 'main-3': NEW, 'solo-1': NEW }),
    PKG,
    { noSwitchover: true },
  );
  assert.equal(done.pinned, true);
  assert.ok(done.clusters.every((c) => c.standbys.length === 0 && !c.primaryNeeds));
});

void test('compareVersions: numeric releases, then the Debian revision', () => {
  assert.equal(compareVersions(NEW, OLD), 1);
  assert.equal(compareVersions(OLD, NEW), -1);
  assert.equal(compareVersions('15.9-1', '15.10-1'), -1);
  assert.equal(compareVersions(NEW, NEW), 0);
  assert.equal(compareVersions('15.20-0+deb12u2', NEW), 1);
});
