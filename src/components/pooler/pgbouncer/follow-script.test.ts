/**
 * The follower runs for real here, as an unprivileged user, against a fake `psql` that
 * answers for each node address from a file (or fails like an unreachable node), and a
 * stand-in pgbouncer process that counts the SIGHUPs (reloads) it gets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { renderDatabasesIni, renderFollowConf } from './files.ts';
import { renderFollowScript } from './follow-script.ts';
import { shellProblems } from '../../../../test/support/repmgr-fixtures.ts';

const FAKE_PSQL = `#!/bin/sh
addr=''
while [ $# -gt 0 ]; do
  case $1 in
    -d) shift; case $1 in host=*) addr=\${1#host=}; addr=\${addr%% *} ;; esac ;;
  esac
  shift
done
echo "$addr" >>"$FAKE_DIR/asks"
[ -f "$FAKE_DIR/nodes/$addr" ] || { echo "psql: error: connection to server at $addr failed" >&2; exit 2; }
cat "$FAKE_DIR/nodes/$addr"
`;

const A = '10.0.3.11';
const B = '10.0.3.12';
const C = '10.0.3.13';
const primary = (timeline: number) =>
  `f ${timeline.toString(16).padStart(8, '0').toUpperCase()}0000000000000007\n`;
const standby = 't -\n';

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** as root the script would switch to postgres; run it (and the stand-in) as nobody */
const asUser = (argv: string[]) =>
  process.getuid?.() === 0
    ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv]
    : argv;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-follow-'));
  chmodSync(dir, 0o777);
  for (const d of ['bin', 'nodes', 'etc', 'state']) {
    mkdirSync(join(dir, d));
    chmodSync(join(dir, d), 0o777);
  }
  const pidfile = join(dir, 'pgbouncer.pid');
  writeFileSync(join(dir, 'bin', 'psql'), FAKE_PSQL, { mode: 0o755 });
  writeFileSync(join(dir, 'follow.sh'), renderFollowScript(), { mode: 0o755 });
  const conf = renderFollowConf({
    nodeAddresses: [A, B, C],
    checkUser: 'pgbouncer_check',
    checkDatabase: 'postgres',
    psql: join(dir, 'bin', 'psql'),
  })
    .replace(/^DATABASES_FILE=.*$/m, `DATABASES_FILE=${join(dir, 'etc', 'databases.ini')}`)
    .replace(/^STATE_DIR=.*$/m, `STATE_DIR=${join(dir, 'state')}`)
    .replace(/^PIDFILE=.*$/m, `PIDFILE=${pidfile}`)
    .replace(/^LOG=.*$/m, `LOG=${join(dir, 'follow.log')}`);
  writeFileSync(join(dir, 'follow.conf'), conf, { mode: 0o644 });

  // the stand-in pgbouncer: same user as the follower, counts the SIGHUPs it gets
  const reloadsFile = join(dir, 'reloads');
  const bouncerArgv = asUser([
    'sh',
    '-c',
    `trap 'echo reload >>${reloadsFile}' HUP; echo $$ >${pidfile}.tmp; mv ${pidfile}.tmp ${pidfile}; while :; do sleep 0.1; done`,
  ]);
  const bouncer = spawn(bouncerArgv[0]!, bouncerArgv.slice(1), { stdio: 'ignore' });
  const t0 = Date.now();
  while (!existsSync(pidfile) && Date.now() - t0 < 5000) pause(50);
  const pid = readFileSync(pidfile, 'utf8');

  const node = (addr: string, answer: string | null) => {
    const f = join(dir, 'nodes', addr);
    if (answer === null) rmSync(f, { force: true });
    else writeFileSync(f, answer, { mode: 0o644 });
  };
  const run = (...args: string[]) => {
    const env = {
      ...process.env,
      PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      FAKE_DIR: dir,
      TPA_PGBOUNCER_FOLLOW_CONF: join(dir, 'follow.conf'),
    };
    const cmd = asUser(['sh', join(dir, 'follow.sh'), ...args]);
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', env, timeout: 30_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    return r;
  };
  const route = () => {
    const f = join(dir, 'etc', 'databases.ini');
    return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
  };
  const reloads = () => {
    pause(400); // the stand-in runs its trap once its current sleep is over
    return existsSync(reloadsFile) ? readFileSync(reloadsFile, 'utf8').split('\n').filter(Boolean).length : 0;
  };
  const log = () => readFileSync(join(dir, 'follow.log'), 'utf8');
  /** the addresses psql was asked since the last call */
  const asks = () => {
    const f = join(dir, 'asks');
    const seen = existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
    rmSync(f, { force: true });
    return seen;
  };
  const breakPidfile = (broken: boolean) => writeFileSync(pidfile, broken ? 'gone\n' : pid);
  const cleanup = () => {
    bouncer.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, node, run, route, reloads, log, asks, breakPidfile, cleanup };
}

void test('the follower script is valid sh and renders the route byte for byte like tpa deploy', () => {
  assert.deepEqual(shellProblems(renderFollowScript()), []);
  const t = setup();
  try {
    for (const addr of [A, 'fd00::5']) {
      assert.equal(t.run('--render', addr).stdout, renderDatabasesIni(addr));
    }
  } finally {
    t.cleanup();
  }
});

void test('the follower points pgbouncer at the primary and follows a failover', () => {
  const t = setup();
  try {
    t.node(A, primary(1));
    t.node(B, standby);
    t.node(C, standby);
    t.run('--reason', 'first');
    assert.equal(t.route(), renderDatabasesIni(A));
    assert.equal(t.reloads(), 1);

    // nothing moved: no rewrite, no reload
    t.run('--reason', 'again');
    assert.equal(t.reloads(), 1);

    // A dies; B is promoted onto timeline 2
    t.node(A, null);
    t.node(B, primary(2));
    t.run('--reason', 'repmgr event repmgrd_failover_promote on node 2');
    assert.equal(t.route(), renderDatabasesIni(B));
    assert.equal(t.reloads(), 2);
    assert.match(
      t.log(),
      /route: 10\.0\.3\.11 -> 10\.0\.3\.12 \(repmgr event repmgrd_failover_promote on node 2\)/,
    );

    // A comes back unfenced, still a primary on timeline 1: B stays
    t.node(A, primary(1));
    t.run();
    assert.equal(t.route(), renderDatabasesIni(B));
    assert.equal(t.reloads(), 2);
  } finally {
    t.cleanup();
  }
});

void test('the follower leaves the route alone with no primary or two on the same timeline', () => {
  const t = setup();
  try {
    t.node(A, primary(3));
    t.run();
    const before = t.route();
    t.node(A, standby);
    t.node(B, standby);
    t.run();
    t.run();
    assert.equal(t.route(), before);
    assert.equal(t.log().match(/no primary reachable/g)?.length, 1, 'logged once, not on every check');

    t.node(A, primary(4));
    t.node(C, primary(4));
    t.run();
    assert.equal(t.route(), before);
    assert.match(t.log(), /two primaries on the same timeline/);
    assert.equal(t.reloads(), 1);
  } finally {
    t.cleanup();
  }
});

void test('a reload that fails is retried on the next check', () => {
  const t = setup();
  try {
    t.node(B, primary(1));
    t.breakPidfile(true);
    t.run();
    assert.equal(t.route(), renderDatabasesIni(B));
    assert.equal(t.reloads(), 0);
    assert.ok(existsSync(join(t.dir, 'state', 'reload-pending')));
    t.breakPidfile(false);
    t.run();
    assert.equal(t.reloads(), 1);
    assert.ok(!existsSync(join(t.dir, 'state', 'reload-pending')));
    t.run();
    assert.equal(t.reloads(), 1);
  } finally {
    t.cleanup();
  }
});

/** a full scan asks every node at once: its asks in address order, after a quick check's one */
const scanOrder = (asks: string[]) =>
  asks.length % 3 === 1 ? [asks[0]!, ...asks.slice(1).sort()] : [...asks].sort();

void test('a quick periodic check asks only the routed node; any doubt makes it ask them all', () => {
  const t = setup();
  try {
    t.node(A, primary(1));
    t.node(B, standby);
    t.node(C, standby);
    t.run('--periodic', 'full');
    assert.equal(t.route(), renderDatabasesIni(A));
    assert.deepEqual(scanOrder(t.asks()), [A, B, C]);

    t.run('--periodic', 'quick');
    assert.deepEqual(scanOrder(t.asks()), [A], 'one login, on the routed node');

    // a second primary on a newer timeline that the routed node does not know of: the quick
    // check cannot see it (the bound of the quick check); the next full scan moves the route
    t.node(B, primary(2));
    t.run('--periodic', 'quick');
    assert.deepEqual(scanOrder(t.asks()), [A]);
    assert.equal(t.route(), renderDatabasesIni(A));
    t.run('--periodic', 'full');
    assert.equal(t.route(), renderDatabasesIni(B));
    assert.deepEqual(scanOrder(t.asks()), [A, B, C]);

    // the routed node goes down: the quick check falls back to a full scan at once
    t.node(A, null);
    t.node(B, null);
    t.node(C, primary(3));
    t.run('--periodic', 'quick');
    assert.deepEqual(scanOrder(t.asks()), [B, A, B, C]);
    assert.equal(t.route(), renderDatabasesIni(C));

    // the routed node is in recovery now: a full scan too
    t.node(C, standby);
    t.node(A, primary(4));
    t.run('--periodic', 'quick');
    assert.deepEqual(scanOrder(t.asks()), [C, A, B, C]);
    assert.equal(t.route(), renderDatabasesIni(A));

    // the routed node answers on an older timeline than the newest one seen: a full scan
    t.node(A, primary(3));
    t.run('--periodic', 'quick');
    assert.deepEqual(scanOrder(t.asks()), [A, A, B, C]);

    // a route file edited by hand is put back by the quick check
    t.node(A, primary(4));
    t.run('--periodic', 'full');
    t.asks();
    writeFileSync(join(t.dir, 'etc', 'databases.ini'), '[databases]\n');
    t.run('--periodic', 'quick');
    assert.equal(t.route(), renderDatabasesIni(A));
  } finally {
    t.cleanup();
  }
});

void test('--to ADDRESS (tpa switchover): the route moves at once without asking anyone; only a node of the cluster', () => {
  const t = setup();
  try {
    t.node(A, primary(1));
    t.node(B, standby);
    t.node(C, standby);
    t.run('--periodic', 'full');
    assert.equal(t.route(), renderDatabasesIni(A));
    t.asks();
    t.run('--to', B);
    assert.equal(t.route(), renderDatabasesIni(B));
    assert.deepEqual(t.asks(), [], 'nobody asked');
    assert.match(t.log(), /route: 10\.0\.3\.11 -> 10\.0\.3\.12 \(tpa switchover\)/);
    assert.throws(() => t.run('--to', '10.9.9.9'), /is not a node of this cluster/);
    assert.equal(t.route(), renderDatabasesIni(B));
  } finally {
    t.cleanup();
  }
});
