/**
 * One job per group: DIR/.tpa/lock, created with O_EXCL, holding the pid and the command of
 * its holder. The CLI takes it for every command that changes the group (cli/group-lock.ts)
 * and the web console refuses a job while someone holds it. A lock whose pid is gone (a
 * killed tpa) is stale and taken over. Synchronous on purpose: it is released from an exit
 * handler, where nothing asynchronous runs.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { processAlive } from '../core/process.ts';

/** tpa's own files in a cluster directory, never committed (jobs, the lock) */
export const TPA_STATE_DIR = '.tpa';
export const LOCK_FILE = join(TPA_STATE_DIR, 'lock');

export interface LockHolder {
  pid: number;
  /** what holds it, e.g. "tpa deploy acme" */
  command: string;
  since: string;
}

export interface GroupLock {
  holder: LockHolder;
  release(): void;
}

/** DIR/.tpa, with a .gitignore that keeps it out of the directory's history */
export function ensureStateDir(dir: string): string {
  const path = join(dir, TPA_STATE_DIR);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  try {
    const fd = openSync(join(path, '.gitignore'), 'wx', 0o644);
    writeSync(fd, '*\n');
    closeSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return path;
}

function readHolder(path: string): { text: string; holder: LockHolder | null } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.command === 'string') {
      return { text, holder: { pid: h.pid, command: h.command, since: String(h.since ?? '') } };
    }
  } catch {
    // a half-written lock: its writer died between open and write
  }
  return { text, holder: null };
}

/** Who holds DIR's lock now, or null when nobody does (or its holder is gone). */
export function lockHolder(dir: string): LockHolder | null {
  const found = readHolder(join(dir, LOCK_FILE));
  return found?.holder && processAlive(found.holder.pid) ? found.holder : null;
}

export function describeHolder(h: LockHolder): string {
  return `${h.command} (pid ${h.pid}, since ${h.since})`;
}

export class GroupBusyError extends UsageError {
  constructor(
    dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `${dir} is busy: ${describeHolder(holder)} holds its lock (${LOCK_FILE})`,
      'wait for it to finish; one job per group at a time',
    );
  }
}

/** Takes DIR's lock for `command`, or throws GroupBusyError naming the holder (exit 2). */
export function acquireGroupLock(dir: string, command: string, pid = process.pid): GroupLock {
  // made here, it goes again with the lock: a command that changes nothing leaves nothing behind
  const madeStateDir = mkdirSync(join(dir, TPA_STATE_DIR), { recursive: true, mode: 0o700 }) !== undefined;
  const path = join(dir, LOCK_FILE);
  const holder: LockHolder = { pid, command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(holder) + '\n');
      closeSync(fd);
      let released = false;
      return {
        holder,
        release: () => {
          if (released) return;
          released = true;
          // only our own lock: a lock taken over from us (we looked dead) is not ours to remove
          if (readHolder(path)?.holder?.pid === pid) unlinkSync(path);
          if (madeStateDir) {
            try {
              rmdirSync(join(dir, TPA_STATE_DIR));
            } catch {
              // something else is kept there now (the console's jobs)
            }
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const found = readHolder(path);
    if (found?.holder && processAlive(found.holder.pid)) throw new GroupBusyError(dir, found.holder);
    // stale (or unreadable): take it over, unless it changed under us since we read it
    if (found && readHolder(path)?.text === found.text) {
      try {
        unlinkSync(path);
      } catch {
        // someone else took it over first: the next attempt sees theirs
      }
    }
  }
  const now = readHolder(path)?.holder;
  throw now ? new GroupBusyError(dir, now) : new UsageError(`cannot take the lock ${join(dir, LOCK_FILE)}`);
}
