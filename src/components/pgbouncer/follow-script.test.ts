/**
 * The follower runs for real here, as an unprivileged user, against a fake `psql` that
 * answers for each node address from a file (or fails like an unreachable node) and records
 * the RELOADs sent to pgbouncer's console.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { renderDatabasesIni, renderFollowConf } from './files.ts';
import { renderFollowScript } from './follow-script.ts';
import { shellProblems } from '../repmgr/fixtures.test-helper.ts';

const FAKE_PSQL = `#!/bin/sh
addr='' cmd=''
while [ $# -gt 0 ]; do
  case $1 in
    -d) shift; case $1 in host=*) addr=\${1#host=}; addr=\${addr%% *} ;; esac ;;
    -c) shift; cmd=$1 ;;
  esac
  shift
done
if [ "$cmd" = RELOAD ]; then
  echo reload >>"$FAKE_DIR/reloads"
  [ ! -e "$FAKE_DIR/reload-fails" ] || exit 2
  exit 0
fi
[ -f "$FAKE_DIR/nodes/$addr" ] || { echo "psql: error: connection to server at $addr failed" >&2; exit 2; }
cat "$FAKE_DIR/nodes/$addr"
`;

const A = '10.0.3.11';
const B = '10.0.3.12';
const C = '10.0.3.13';
const primary = (timeline: number) =>
  `f ${timeline.toString(16).padStart(8, '0').toUpperCase()}0000000000000007\n`;
const standby = 't -\n';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-follow-'));
  chmodSync(dir, 0o777);
  for (const d of ['bin', 'nodes', 'etc', 'state']) {
    mkdirSync(join(dir, d));
    chmodSync(join(dir, d), 0o777);
  }
  writeFileSync(join(dir, 'bin', 'psql'), FAKE_PSQL, { mode: 0o755 });
  writeFileSync(join(dir, 'follow.sh'), renderFollowScript(), { mode: 0o755 });
  const conf = renderFollowConf({ nodeAddresses: [A, B, C], checkUser: 'repmgr', checkDatabase: 'repmgr' })
    .replace(/^DATABASES_FILE=.*$/m, `DATABASES_FILE=${join(dir, 'etc', 'databases.ini')}`)
    .replace(/^STATE_DIR=.*$/m, `STATE_DIR=${join(dir, 'state')}`)
    .replace(/^LOG=.*$/m, `LOG=${join(dir, 'follow.log')}`);
  writeFileSync(join(dir, 'follow.conf'), conf, { mode: 0o644 });
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
    // as root the script would switch to postgres; run it as nobody like a service user
    const argv = ['sh', join(dir, 'follow.sh'), ...args];
    const cmd =
      process.getuid?.() === 0
        ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv]
        : argv;
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', env, timeout: 30_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    return r;
  };
  const route = () => {
    const f = join(dir, 'etc', 'databases.ini');
    return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
  };
  const reloads = () => {
    const f = join(dir, 'reloads');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0;
  };
  const log = () => readFileSync(join(dir, 'follow.log'), 'utf8');
  return {
    dir,
    node,
    run,
    route,
    reloads,
    log,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
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

void test('a RELOAD that fails is retried on the next check', () => {
  const t = setup();
  try {
    t.node(B, primary(1));
    writeFileSync(join(t.dir, 'reload-fails'), '');
    t.run();
    assert.equal(t.route(), renderDatabasesIni(B));
    assert.ok(existsSync(join(t.dir, 'state', 'reload-pending')));
    rmSync(join(t.dir, 'reload-fails'));
    t.run();
    assert.equal(t.reloads(), 2);
    assert.ok(!existsSync(join(t.dir, 'state', 'reload-pending')));
  } finally {
    t.cleanup();
  }
});
