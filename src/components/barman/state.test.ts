/** The state probe runs in a real shell over real files, with a lock really held by flock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BARMAN_STATE_PROBE, parseStateProbe, serverState, stateProbeCommand } from './state.ts';

async function fixture() {
  const home = await mkdtemp(join(tmpdir(), 'tpa-barman-'));
  const confDir = join(home, 'etc');
  await mkdir(confDir);
  const paths = { barmanHome: home, confPath: (s: string) => join(confDir, `${s}.conf`) };
  return { home, confDir, paths };
}

function runProbe(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

void test('a server that has never run: nothing streaming, archived or backed up', async () => {
  const f = await fixture();
  try {
    const states = parseStateProbe(runProbe(stateProbeCommand(['main'], f.paths)));
    assert.deepEqual(states.get('main'), {
      server: 'main',
      receiveWalRunning: false,
      walsArchived: 0,
      backupsDone: 0,
      lastBackupEpoch: 0,
      conninfoHost: '',
    });
  } finally {
    await rm(f.home, { recursive: true, force: true });
  }
});

void test('a working server: lock held, WAL archived, DONE backups counted (FAILED ones not), conninfo host', async () => {
  const f = await fixture();
  const s = 'main';
  await mkdir(join(f.home, s, 'wals'), { recursive: true });
  await writeFile(join(f.home, s, 'wals', 'xlog.db'), 'A\t1\t2\tNone\nB\t1\t3\tNone\n');
  for (const [id, status, mtime] of [
    ['20240101T020000', 'DONE', 1_700_000_000],
    ['20240102T020000', 'DONE', 1_700_086_400],
    ['20240103T020000', 'FAILED', 1_700_172_800],
  ] as const) {
    await mkdir(join(f.home, s, 'base', id), { recursive: true });
    const info = join(f.home, s, 'base', id, 'backup.info');
    await writeFile(info, `begin_wal=x\nstatus=${status}\n`);
    await utimes(info, mtime, mtime);
  }
  await writeFile(
    f.paths.confPath(s),
    '[main]\nconninfo = host=10.0.3.12 port=5432 user=barman dbname=postgres\nstreaming_conninfo = host=10.0.3.99\n',
  );
  const lock = join(f.home, `.${s}-receive-wal.lock`);
  await writeFile(lock, '');
  const holder = spawn('flock', ['-x', lock, 'sleep', '30'], { stdio: 'ignore' });
  try {
    // wait until flock holds the lock
    for (let i = 0; i < 50; i++) {
      if (spawnSync('flock', ['-n', '-s', lock, 'true']).status !== 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const raw = runProbe(stateProbeCommand([s, 'other'], f.paths));
    const state = serverState({ probes: { [BARMAN_STATE_PROBE]: raw } } as never, s);
    assert.deepEqual(state, {
      server: 'main',
      receiveWalRunning: true,
      walsArchived: 2,
      backupsDone: 2,
      lastBackupEpoch: 1_700_086_400,
      conninfoHost: '10.0.3.12',
    });
    assert.equal(parseStateProbe(raw).get('other')?.backupsDone, 0);
  } finally {
    holder.kill('SIGTERM');
    await rm(f.home, { recursive: true, force: true });
  }
  // the lock released: receive-wal counts as stopped
});

void test('a lock file nobody holds means receive-wal is not running', async () => {
  const f = await fixture();
  try {
    await writeFile(join(f.home, '.main-receive-wal.lock'), '1234');
    const st = parseStateProbe(runProbe(stateProbeCommand(['main'], f.paths))).get('main');
    assert.equal(st?.receiveWalRunning, false);
  } finally {
    await rm(f.home, { recursive: true, force: true });
  }
});

void test('no servers: a probe that prints nothing', () => {
  assert.equal(runProbe(stateProbeCommand([])), '');
  assert.equal(parseStateProbe(undefined).size, 0);
});
