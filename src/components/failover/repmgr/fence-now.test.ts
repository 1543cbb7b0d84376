/**
 * The running primary's fence runs for real here (sh, as an unprivileged user) with stand-ins:
 * psql answers for the local server (-h SOCKET) and for each peer address from files, the TCP
 * probe answers per address (open, refused, or silent), and "stop" records what it would stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgPaths } from '../../postgres/paths.ts';
import { renderFenceConf } from './fence.ts';
import { renderFenceNowScript } from './fence-now.ts';
import { shellProblems } from '../../../../test/support/repmgr-fixtures.ts';

const p = pgPaths(15);
const SYSID = '7300000000000000001';
const B = '10.0.3.12';
const C = '10.0.3.13';
const wal = (tl: number) => `${tl.toString(16).padStart(8, '0').toUpperCase()}0000000000000007`;
const primary = (tl: number, sysid = SYSID) => `f ${sysid} ${wal(tl)}\n`;
const standby = () => `t ${SYSID} -\n`;

/** -h <socket> is the local server, -d "host=<addr> ..." a peer */
const FAKE_PSQL = `#!/bin/sh
here=$(dirname "$0")/..
who=''
while [ $# -gt 0 ]; do
  case $1 in
    -h) shift; who=local ;;
    -d) shift; case $1 in host=*) who=\${1#host=}; who=\${who%% *} ;; esac ;;
  esac
  shift
done
[ -f "$here/answers/$who" ] || { echo "psql: error: connection failed" >&2; exit 2; }
cat "$here/answers/$who"
`;
/** probe ADDR PORT: exit 0 (open), refused (message), or silent (exit 124) */
const FAKE_PROBE = `#!/bin/sh
here=$(dirname "$0")/..
case $(cat "$here/net/$1" 2>/dev/null) in
  open) exit 0 ;;
  refused) echo "bash: connect: Connection refused" >&2; exit 1 ;;
  *) exit 124 ;;
esac
`;
const FAKE_STOP = `#!/bin/sh
echo "$1" >>"$(dirname "$0")/../stopped"
`;

const asUser = (argv: string[]) =>
  process.getuid?.() === 0
    ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv]
    : argv;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-fence-now-'));
  chmodSync(dir, 0o777);
  for (const d of ['bin', 'answers', 'net', 'run']) {
    mkdirSync(join(dir, d));
    chmodSync(join(dir, d), 0o777);
  }
  writeFileSync(join(dir, 'bin', 'psql'), FAKE_PSQL, { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'probe'), FAKE_PROBE, { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'stop'), FAKE_STOP, { mode: 0o755 });
  writeFileSync(join(dir, 'fence-now.sh'), renderFenceNowScript(p), { mode: 0o755 });
  const peers = [
    { name: 'main-2', address: B },
    { name: 'main-3', address: C },
  ];
  const conf = renderFenceConf(p, peers)
    .replace(/^BIN_DIR=.*$/m, `BIN_DIR=${join(dir, 'bin')}`)
    .replace(/^LOG=.*$/m, `LOG=${join(dir, 'postgresql.log')}`)
    .replace(/^MARKER=.*$/m, `MARKER=${join(dir, 'run', 'tpa-fenced')}`);
  writeFileSync(join(dir, 'fence.conf'), conf, { mode: 0o644 });
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '');
  const set = (sub: string, name: string, value: string | null) => {
    if (value === null) rmSync(join(dir, sub, name), { force: true });
    else writeFileSync(join(dir, sub, name), value, { mode: 0o644 });
  };
  return {
    local: (answer: string | null) => set('answers', 'local', answer),
    peer: (addr: string, net: 'open' | 'refused' | 'silent', answer: string | null = null) => {
      set('net', addr, net);
      set('answers', addr, answer);
    },
    run: () => {
      const argv = asUser([join(dir, 'fence-now.sh'), '1']);
      const r = spawnSync(argv[0]!, argv.slice(1), {
        env: {
          PATH: '/usr/bin:/bin',
          TPA_FENCE_CONF: join(dir, 'fence.conf'),
          TPA_FENCE_PROBE: join(dir, 'bin', 'probe'),
          TPA_FENCE_STOP: join(dir, 'bin', 'stop'),
          TPA_FENCE_SOCKET: join(dir, 'run'),
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      return { code: r.status, stderr: r.stderr };
    },
    stopped: () => read('stopped'),
    marker: () => read('run/tpa-fenced'),
    log: () => read('postgresql.log'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

void test('the script is valid sh (shellcheck when installed)', () => {
  assert.deepEqual(shellProblems(renderFenceNowScript(p)), []);
});

void test('cut off from every other node: the server is stopped, the marker says why and what to run', () => {
  const t = setup();
  try {
    t.local(primary(1));
    t.peer(B, 'silent');
    t.peer(C, 'silent');
    const r = t.run();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.stopped(), 'postgresql@15-main\n');
    assert.match(t.marker(), /^fenced: too few standbys are connected and no other node of the cluster/);
    assert.match(
      t.marker(),
      /tpa rejoin DIR \S+ \(or, as root here: \/usr\/local\/lib\/tpa\/postgres-rejoin\.sh/,
    );
    assert.match(t.log(), /\[tpa-fence\] FATAL: {2}fenced: /);
  } finally {
    t.cleanup();
  }
});

void test('standbys down but their machines answer (even refusing): the primary carries on', () => {
  const t = setup();
  try {
    t.local(primary(1));
    t.peer(B, 'refused');
    t.peer(C, 'open', standby());
    const r = t.run();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.stopped(), '');
    assert.equal(t.marker(), '');
    assert.match(
      r.stderr,
      /other nodes answer \(main-2=10\.0\.3\.12 main-3=10\.0\.3\.13\) and none of them is a primary/,
    );
  } finally {
    t.cleanup();
  }
});

void test('another node is a primary on a newer timeline (this one thawed after a failover): stopped', () => {
  const t = setup();
  try {
    t.local(primary(1));
    t.peer(B, 'open', primary(2));
    t.peer(C, 'open', standby());
    const r = t.run();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.stopped(), 'postgresql@15-main\n');
    assert.match(
      t.marker(),
      /^fenced: 10\.0\.3\.12 \(main-2\) is a primary too \(timeline 2; this node is on timeline 1\)/,
    );
  } finally {
    t.cleanup();
  }
});

void test('a primary on an older timeline, or of another system, does not fence this one', () => {
  const t = setup();
  try {
    t.local(primary(3));
    t.peer(B, 'open', primary(2));
    t.peer(C, 'open', primary(5, '7399999999999999999'));
    const r = t.run();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(t.stopped(), '');
  } finally {
    t.cleanup();
  }
});

void test('a standby (or a server that does not answer locally) never fences itself', () => {
  const t = setup();
  try {
    t.peer(B, 'silent');
    t.peer(C, 'silent');
    t.local(standby());
    assert.equal(t.run().code, 0);
    t.local(null);
    assert.equal(t.run().code, 0);
    assert.equal(t.stopped(), '');
  } finally {
    t.cleanup();
  }
});
