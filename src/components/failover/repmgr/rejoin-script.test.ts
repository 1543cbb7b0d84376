/**
 * The rejoin script runs for real (sh, as an unprivileged user) against stand-ins for
 * systemctl, pg_controldata, postgres and repmgr that record how they were called.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgPaths } from '../../postgres/paths.ts';
import { renderFenceConf } from './fence.ts';
import { renderRejoinScript } from './rejoin-script.ts';
import { shellProblems } from '../../../../test/support/repmgr-fixtures.ts';

const p = pgPaths(15);

const asUser = (argv: string[]) =>
  process.getuid?.() === 0
    ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv]
    : argv;

/** a stand-in that appends its name, arguments and stdin kind to ../calls */
const recorder = (name: string, body = '') => `#!/bin/sh
here=$(dirname "$0")/..
if [ -t 0 ]; then in=tty; elif [ -s /dev/stdin ]; then in=data; else in=empty; fi
printf '%s %s <%s\\n' ${name} "$*" "$in" >>"$here/calls"
${body}
`;

function setup(state: string, active: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-rejoin-'));
  chmodSync(dir, 0o777);
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'systemctl'), `#!/bin/sh\nexit ${active ? 0 : 3}\n`, { mode: 0o755 });
  writeFileSync(
    join(dir, 'bin', 'pg_controldata'),
    `#!/bin/sh\nprintf 'Database system identifier:           7300000000000000001\\nDatabase cluster state:               %s\\n' '${state}'\n`,
    { mode: 0o755 },
  );
  writeFileSync(join(dir, 'bin', 'postgres'), recorder('postgres'), { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'repmgr'), recorder('repmgr'), { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'psql'), recorder('psql'), { mode: 0o755 });
  writeFileSync(join(dir, 'calls'), '');
  chmodSync(join(dir, 'calls'), 0o666);
  const conf = renderFenceConf(p, [{ name: 'main-2', address: '10.0.3.12' }]).replace(
    /^BIN_DIR=.*$/m,
    `BIN_DIR=${join(dir, 'bin')}`,
  );
  writeFileSync(join(dir, 'fence.conf'), conf, { mode: 0o644 });
  writeFileSync(join(dir, 'rejoin.sh'), renderRejoinScript('/nonexistent'), { mode: 0o755 });
  const run = (...args: string[]) => {
    const argv = asUser([join(dir, 'rejoin.sh'), ...args]);
    const r = spawnSync(argv[0]!, argv.slice(1), {
      env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, TPA_FENCE_CONF: join(dir, 'fence.conf') },
      encoding: 'utf8',
      timeout: 10_000,
    });
    const calls = existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8') : '';
    return { code: r.status, out: r.stdout + r.stderr, calls: calls.trim().split('\n').filter(Boolean) };
  };
  return { run, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

void test('the script is valid sh (shellcheck when installed)', () => {
  assert.deepEqual(shellProblems(renderRejoinScript('/etc/tpa/postgres-fence.conf')), []);
});

void test('a crashed former primary: crash recovery in single-user mode with the configuration file, then repmgr node rejoin', () => {
  const t = setup('in production', false);
  try {
    const r = t.run('10.0.3.12');
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /was not shut down cleanly \(in production\): crash recovery in single-user mode first/,
    );
    assert.deepEqual(r.calls, [
      'postgres --single -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf template1 <empty',
      // the just-promoted primary's pg_control must name its new timeline before pg_rewind reads it
      'psql -X -q -d host=10.0.3.12 port=5432 user=repmgr dbname=repmgr connect_timeout=2 sslmode=require keepalives=1 keepalives_idle=1 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=2000 -c CHECKPOINT <empty',
      'repmgr -f /etc/repmgr.conf node rejoin -d host=10.0.3.12 port=5432 user=repmgr dbname=repmgr connect_timeout=2 sslmode=require keepalives=1 keepalives_idle=1 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=2000 --force-rewind <empty',
    ]);
  } finally {
    t.cleanup();
  }
});

void test('a cleanly stopped one goes straight to the checkpoint and repmgr node rejoin', () => {
  const t = setup('shut down', false);
  try {
    const r = t.run('10.0.3.12');
    assert.equal(r.code, 0, r.out);
    assert.equal(r.calls.length, 2);
    assert.match(r.calls[0]!, /^psql .* -c CHECKPOINT/);
    assert.match(r.calls[1]!, /^repmgr -f \/etc\/repmgr\.conf node rejoin -d host=10\.0\.3\.12 /);
  } finally {
    t.cleanup();
  }
});

void test('a running server or a missing address is refused before anything runs', () => {
  const running = setup('in production', true);
  try {
    const r = running.run('10.0.3.12');
    assert.equal(r.code, 1);
    assert.match(r.out, /postgresql@15-main is running/);
    assert.deepEqual(r.calls, []);
  } finally {
    running.cleanup();
  }
  const t = setup('in production', false);
  try {
    const r = t.run();
    assert.equal(r.code, 2);
    assert.match(r.out, /usage: .* ADDRESS-OF-THE-PRIMARY/);
    assert.deepEqual(t.run('--force').calls, []);
  } finally {
    t.cleanup();
  }
});
