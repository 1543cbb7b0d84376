/**
 * The start guard runs for real here (sh, as an unprivileged user) against a stand-in
 * pg_controldata that prints this node's control data and a stand-in psql that answers for
 * each peer address from a file, fails like a node that is down, or hangs. The plan side:
 * where the files go, what the peers file lists, and that a second deploy changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desiredState } from '../../../engine/desired.ts';
import { diff, sha256 } from '../../../plan/diff.ts';
import type { HostFacts, Resource } from '../../../plan/types.ts';
import { pgPaths } from '../../postgres/paths.ts';
import {
  FENCE_CONF,
  FENCE_SCRIPT,
  fenceDropInPath,
  fencePeers,
  renderFenceConf,
  renderFenceDropIn,
  renderFenceScript,
} from './fence.ts';
import { repmgrComponent } from './index.ts';
import { REJOIN_SCRIPT } from './rejoin-script.ts';
import {
  emptyFacts,
  sampleContext,
  sampleInventory,
  shellProblems,
} from '../../../../test/support/repmgr-fixtures.ts';

const p = pgPaths(15);
const SYSID = '7300000000000000001';
const A = '10.0.3.11';
const B = '10.0.3.12';
const C = '10.0.3.13';

/** answers from ../peers/<address>; records each call in ../calls/<address> */
const FAKE_PSQL = `#!/bin/sh
here=$(dirname "$0")/..
conn='' addr=''
while [ $# -gt 0 ]; do
  case $1 in -d) shift; conn=$1; addr=\${1#host=}; addr=\${addr%% *} ;; esac
  shift
done
printf 'PGPASSFILE=%s %s\\n' "\${PGPASSFILE:-}" "$conn" >"$here/calls/$addr"
[ -f "$here/slow/$addr" ] && sleep "$(cat "$here/slow/$addr")"
[ -f "$here/peers/$addr" ] || { echo "psql: error: connection to server at $addr failed" >&2; exit 2; }
cat "$here/peers/$addr"
`;

const FAKE_CONTROLDATA = `#!/bin/sh
cat "$(dirname "$0")/../control"
`;

const control = (timeline: number, sysid = SYSID) =>
  `pg_control version number:            1300\nDatabase system identifier:           ${sysid}\n` +
  `Database cluster state:               in production\nLatest checkpoint's TimeLineID:       ${timeline}\n`;
const primary = (timeline: number, sysid = SYSID) =>
  `f ${sysid} ${timeline.toString(16).padStart(8, '0').toUpperCase()}0000000000000007\n`;
const standby = (sysid = SYSID) => `t ${sysid} -\n`;

const asUser = (argv: string[]) =>
  process.getuid?.() === 0
    ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv]
    : argv;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-fence-'));
  chmodSync(dir, 0o777);
  for (const d of ['bin', 'peers', 'calls', 'slow', 'data', 'data/pg_wal', 'run']) {
    mkdirSync(join(dir, d));
    chmodSync(join(dir, d), 0o777);
  }
  writeFileSync(join(dir, 'bin', 'psql'), FAKE_PSQL, { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'pg_controldata'), FAKE_CONTROLDATA, { mode: 0o755 });
  writeFileSync(join(dir, 'control'), control(1), { mode: 0o644 });
  writeFileSync(join(dir, 'fence.sh'), renderFenceScript(p), { mode: 0o755 });
  const peers = [
    { name: 'main-2', address: B },
    { name: 'main-3', address: C },
  ];
  const marker = join(dir, 'run', 'tpa-fenced');
  const log = join(dir, 'postgresql.log');
  const conf = (queryTimeout = 8) =>
    renderFenceConf(p, peers)
      .replace(/^DATA_DIR=.*$/m, `DATA_DIR=${join(dir, 'data')}`)
      .replace(/^BIN_DIR=.*$/m, `BIN_DIR=${join(dir, 'bin')}`)
      .replace(/^LOG=.*$/m, `LOG=${log}`)
      .replace(/^MARKER=.*$/m, `MARKER=${marker}`)
      .replace(/^QUERY_TIMEOUT=.*$/m, `QUERY_TIMEOUT=${queryTimeout}`);
  writeFileSync(join(dir, 'fence.conf'), conf(), { mode: 0o644 });
  const peer = (addr: string, answer: string | null, delayS?: number) => {
    if (answer === null) rmSync(join(dir, 'peers', addr), { force: true });
    else writeFileSync(join(dir, 'peers', addr), answer, { mode: 0o644 });
    if (delayS !== undefined) writeFileSync(join(dir, 'slow', addr), String(delayS), { mode: 0o644 });
  };
  const run = () => {
    for (const f of readdirSync(join(dir, 'calls'))) rmSync(join(dir, 'calls', f));
    const argv = asUser([join(dir, 'fence.sh')]);
    const started = Date.now();
    const r = spawnSync(argv[0]!, argv.slice(1), {
      env: { PATH: '/usr/bin:/bin', TPA_FENCE_CONF: join(dir, 'fence.conf') },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return {
      code: r.status,
      stderr: r.stderr,
      seconds: (Date.now() - started) / 1000,
      calls: readdirSync(join(dir, 'calls')),
    };
  };
  const file = (name: string) => join(dir, name);
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  return {
    dir,
    peer,
    run,
    file,
    marker: () => read(marker),
    log: () => read(log),
    setConf: (queryTimeout: number) => writeFileSync(join(dir, 'fence.conf'), conf(queryTimeout)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

void test('the script is valid sh (shellcheck when installed)', () => {
  assert.deepEqual(shellProblems(renderFenceScript(p)), []);
});

void test('a standby or a restore in progress starts without asking anyone', () => {
  const t = setup();
  try {
    t.peer(B, primary(2));
    for (const signal of ['standby.signal', 'recovery.signal']) {
      writeFileSync(t.file(`data/${signal}`), '');
      const r = t.run();
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.calls, [], `${signal}: no peer asked`);
      rmSync(t.file(`data/${signal}`));
    }
  } finally {
    t.cleanup();
  }
});

void test('a former primary is fenced by the promoted peer: exit 1, the peer named, marker and log written', () => {
  const t = setup();
  try {
    t.peer(B, primary(2));
    t.peer(C, standby());
    const r = t.run();
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /fenced: 10\.0\.3\.12 \(main-2\) is the primary now \(timeline 2; this node's data is on timeline 1\)/,
    );
    assert.match(
      r.stderr,
      /Rejoin this node as a standby of main-2 \(as root: \/usr\/local\/lib\/tpa\/postgres-rejoin\.sh 10\.0\.3\.12, which runs repmgr node rejoin --force-rewind\)/,
    );
    assert.match(t.marker(), /^fenced: 10\.0\.3\.12 \(main-2\)/);
    assert.match(t.log(), /UTC \[tpa-fence\] FATAL: {2}fenced: 10\.0\.3\.12/);
    // both peers were asked, as repmgr asks them: TLS, the repmgr role, ~postgres/.pgpass
    assert.deepEqual(r.calls.sort(), [B, C]);
    const call = readFileSync(t.file(`calls/${B}`), 'utf8');
    assert.match(
      call,
      /^PGPASSFILE=\/var\/lib\/postgresql\/\.pgpass host=10\.0\.3\.12 port=5432 user=repmgr dbname=repmgr connect_timeout=2 sslmode=require/,
    );
  } finally {
    t.cleanup();
  }
});

void test('standbys, peers that are down and other systems do not block; a stale marker goes', () => {
  const t = setup();
  try {
    writeFileSync(t.file('run/tpa-fenced'), 'fenced: old\n');
    t.peer(B, standby());
    t.peer(C, null);
    let r = t.run();
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /starting as a primary: no peer is a primary on timeline 1 or newer \(peers: main-2:standby main-3:no-answer\)/,
    );
    assert.equal(t.marker(), '');
    // a peer running a primary of another system (Debian's empty cluster on a node not cloned yet)
    t.peer(B, primary(5, '7399999999999999999'));
    r = t.run();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /main-2:other-system/);
  } finally {
    t.cleanup();
  }
});

void test('a peer that is a primary on an older timeline is the stale one: this node starts and says so', () => {
  const t = setup();
  try {
    // promoted to timeline 2, crashed before its first checkpoint: the history file tells
    writeFileSync(t.file('data/pg_wal/00000002.history'), '1\t0/3000000\tno recovery target specified\n');
    t.peer(B, primary(1));
    const r = t.run();
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /older timeline than this node's 2: main-2 \(timeline 1\); that node needs a rejoin/,
    );
    assert.match(
      t.log(),
      /WARNING: {2}also running as a primary, on an older timeline than this node's 2: main-2 \(timeline 1\)/,
    );
    // the same timeline fences (nothing tells which of the two is right)
    writeFileSync(t.file('control'), control(2));
    t.peer(B, primary(2));
    assert.equal(t.run().code, 1);
  } finally {
    t.cleanup();
  }
});

void test('peers are asked at once and a hung one is given up on', () => {
  const t = setup();
  try {
    t.peer(B, standby(), 2);
    t.peer(C, standby(), 2);
    let r = t.run();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.seconds < 3.5, `in parallel: ${r.seconds} s`);
    t.setConf(1);
    t.peer(B, primary(2), 20);
    r = t.run();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.seconds < 5, `given up after the timeout: ${r.seconds} s`);
    assert.match(r.stderr, /main-2:no-answer/);
  } finally {
    t.cleanup();
  }
});

void test('nothing to check: no configuration, no data directory, no peers', () => {
  const t = setup();
  try {
    t.peer(B, primary(2));
    rmSync(t.file('control'));
    assert.equal(t.run().code, 0, 'pg_controldata fails: postgres reports that itself');
    writeFileSync(t.file('control'), control(1));
    writeFileSync(
      t.file('fence.conf'),
      renderFenceConf(p, []).replace(/^BIN_DIR=.*$/m, `BIN_DIR=${t.file('bin')}`),
    );
    assert.equal(t.run().code, 0);
    rmSync(t.file('fence.conf'));
    assert.equal(t.run().code, 0);
  } finally {
    t.cleanup();
  }
});

// ---------------------------------------------------------------------------------------
// Deploy

const host = (name: string) => sampleInventory().hosts.find((h) => h.name === name)!;

void test('every node gets the script, its peers and the drop-in in phase common', () => {
  const ctx = sampleContext();
  const common = repmgrComponent.desired(host('main-1'), ctx).find((x) => x.phase === 'common')!.resources;
  const paths = common.map((r) =>
    r.kind === 'file' || r.kind === 'directory' ? r.path : r.kind === 'action' ? r.id : r.kind,
  );
  for (const want of [FENCE_SCRIPT, REJOIN_SCRIPT, FENCE_CONF, fenceDropInPath(p)])
    assert.ok(paths.includes(want), `${want} in ${paths.join(', ')}`);
  // one daemon-reload after both unit files of the phase, when either changed
  const reloads = common.filter((r) => r.kind === 'action' && r.id.startsWith('systemd-daemon-reload'));
  assert.equal(reloads.length, 1);
  const reload = reloads[0]!;
  assert.ok(reload.kind === 'action' && reload.id.includes(fenceDropInPath(p)));
  assert.equal(common.indexOf(reload), common.length - 1);
  assert.equal(fenceDropInPath(p), '/etc/systemd/system/postgresql@15-main.service.d/tpa-fence.conf');
  const conf = common.find((r) => r.kind === 'file' && r.path === FENCE_CONF);
  assert.ok(conf?.kind === 'file');
  assert.match(conf.content, /^PEERS='main-2=10\.0\.3\.12 main-3=10\.0\.3\.13'$/m);
  assert.deepEqual(fencePeers(host('main-3'), sampleInventory().hosts), [
    { name: 'main-1', address: A },
    { name: 'main-2', address: B },
  ]);
  assert.match(
    renderFenceDropIn(p),
    /^\[Service\]\nExecStartPre=\/usr\/local\/lib\/tpa\/postgres-fence\.sh$/m,
  );
  // no restart of the server for a guard that only matters at the next start
  for (const r of common)
    if (r.kind === 'file') assert.equal(r.notify?.some((h) => h.includes('postgresql')) ?? false, false);
});

/** facts of a host on which every file and directory of `resources` is already as desired */
function factsWith(hostName: string, resources: Resource[]): HostFacts {
  const f = emptyFacts(hostName);
  for (const r of resources) {
    if (r.kind === 'file')
      f.files[r.path] = { sha256: sha256(r.content), mode: r.mode, owner: r.owner, group: r.group };
    if (r.kind === 'directory') f.directories[r.path] = { mode: r.mode, owner: r.owner, group: r.group };
  }
  return f;
}

void test('plan: the first deploy writes the guard and reloads systemd; the second changes nothing', () => {
  const ctx = sampleContext();
  const desired = desiredState([repmgrComponent], ctx).filter((d) => d.host === 'main-2');
  const fenceChange = (c: { resource: Resource }) =>
    (c.resource.kind === 'file' &&
      [FENCE_SCRIPT, FENCE_CONF, fenceDropInPath(p)].includes(c.resource.path)) ||
    (c.resource.kind === 'action' &&
      c.resource.id.startsWith('systemd-daemon-reload') &&
      c.resource.id.includes(fenceDropInPath(p)));
  const first = diff(desired, { 'main-2': emptyFacts('main-2') }, { phases: ['common'] });
  assert.equal(first.hosts[0]!.changes.filter(fenceChange).length, 4);

  const common = desired[0]!.phases.find((x) => x.phase === 'common')!.resources;
  const second = diff(desired, { 'main-2': factsWith('main-2', common) }, { phases: ['common'] });
  assert.deepEqual(
    second.hosts[0]!.changes.map((c) => c.summary),
    [],
  );

  // a new node joins: the peers file changes, and only it (no daemon-reload for it)
  const inventory = structuredClone(ctx.inventory);
  inventory.hosts.push({ ...inventory.hosts[2]!, name: 'main-4', address: '10.0.3.14' });
  const config = structuredClone(ctx.config);
  config.clusters[0]!.nodes.push({ ...config.clusters[0]!.nodes[1]!, name: 'main-4' });
  const grown = desiredState([repmgrComponent], { ...ctx, config, inventory }).filter(
    (d) => d.host === 'main-2',
  );
  const third = diff(grown, { 'main-2': factsWith('main-2', common) }, { phases: ['common'] });
  assert.deepEqual(
    third.hosts[0]!.changes.map((c) => (c.resource.kind === 'file' ? c.resource.path : c.summary)),
    [FENCE_CONF],
  );
});

void test('clusters without repmgr get no guard', () => {
  const ctx = sampleContext();
  const config = structuredClone(ctx.config);
  config.clusters[0]!.failover_manager = 'none';
  assert.equal(repmgrComponent.appliesTo(host('main-1'), { ...ctx, config }), false);
});
