import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireGroupLock, GroupBusyError, LOCK_FILE, lockHolder } from './lock.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'tpa-lock-'));

/** the pid of a process that has ended */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

void test('a second holder is refused, naming the first; released, the lock can be taken again', () => {
  const d = dir();
  try {
    const first = acquireGroupLock(d, 'tpa deploy acme');
    assert.equal(statSync(join(d, LOCK_FILE)).mode & 0o777, 0o600);
    assert.deepEqual(lockHolder(d), first.holder);
    assert.throws(
      () => acquireGroupLock(d, 'tpa switchover acme'),
      (e: unknown) =>
        e instanceof GroupBusyError &&
        e.exitCode === 2 &&
        e.message.includes(`tpa deploy acme (pid ${process.pid}`),
    );
    first.release();
    assert.equal(lockHolder(d), null);
    acquireGroupLock(d, 'tpa switchover acme').release();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

void test('a lock whose holder is gone is taken over', () => {
  const d = dir();
  try {
    const stale = acquireGroupLock(d, 'tpa deploy acme', deadPid());
    assert.equal(lockHolder(d), null, 'a dead holder holds nothing');
    const mine = acquireGroupLock(d, 'tpa backup acme');
    assert.match(readFileSync(join(d, LOCK_FILE), 'utf8'), /tpa backup acme/);
    // the stale holder's release does not remove the lock it lost
    stale.release();
    assert.deepEqual(lockHolder(d), mine.holder);
    mine.release();
    // a half-written lock (its writer died before writing) is stale too
    writeFileSync(join(d, LOCK_FILE), '');
    acquireGroupLock(d, 'tpa deploy acme').release();
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
