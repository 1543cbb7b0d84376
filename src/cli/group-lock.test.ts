/**
 * The CLI honours a group's lock: a command that changes the group, run while another holds
 * the lock, stops before doing anything with exit 2 and the holder's name; a command that only
 * reads runs. The real bin/tpa; `deploy` of a group that was never provisioned, so that
 * nothing could be touched even if the lock were not honoured.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireGroupLock, LOCK_FILE } from '../clusterdir/lock.ts';
import { configure } from '../commands/configure/index.ts';
import { TPA_BIN } from '../core/files.ts';
import { configureRequest } from '../ui/test-support.test-helper.ts';
import { LOCKING_COMMANDS } from './group-lock.ts';

let root: string;
let acme: string;

before(async () => {
  process.env.TPA_SECRET_KEY ??= randomBytes(32).toString('base64');
  root = await mkdtemp(join(tmpdir(), 'tpa-cli-lock-'));
  acme = join(root, 'acme');
  await configure(configureRequest(acme));
});
after(() => rm(root, { recursive: true, force: true }));

function tpa(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TPA_BIN, args, { env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

void test('a changing command while the lock is held: exit 2 naming the holder; a reading one runs', async () => {
  const lock = acquireGroupLock(acme, 'tpa ui job: tpa switchover acme');
  try {
    const r = await tpa(['deploy', acme]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`busy: tpa ui job: tpa switchover acme \\(pid ${process.pid}, since`));
    const json = await tpa(['deploy', acme, '--json']);
    assert.equal(json.code, 2);
    assert.equal((JSON.parse(json.stdout) as { error: string }).error, 'GroupBusyError');
    assert.equal((await tpa(['validate', acme])).code, 0, 'validate only reads');
  } finally {
    lock.release();
  }
  // not held: deploy gets as far as its own refusal (never provisioned), and leaves no lock
  const r = await tpa(['deploy', acme]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not provisioned|inventory/);
  assert.equal(existsSync(join(acme, LOCK_FILE)), false);
});

void test('the commands that change a group are the ones that take the lock', () => {
  for (const verb of ['provision', 'deploy', 'deprovision', 'switchover', 'backup', 'restore', 'upgrade'])
    assert.ok(LOCKING_COMMANDS.has(verb), verb);
  for (const verb of ['validate', 'status', 'info', 'plan', 'cost', 'test'])
    assert.ok(!LOCKING_COMMANDS.has(verb), verb);
});
