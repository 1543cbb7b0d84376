/**
 * A host-wide lock for what groups share (the base image, the apt proxy, subnet choice), so two
 * tpa processes provisioning different groups at once do not trip over each other. A lock file
 * holds the owner's pid; a lock whose owner is gone is taken over.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationError } from '../../core/errors.ts';
import { processAlive } from '../../core/process.ts';

/** Host-wide lock files of the lxc platform. */
export const LOCK_DIR = '/run/tpa-lxc';

// Callers within one process take turns per name through this queue (the lock is not re-entrant).
const held = new Map<string, Promise<unknown>>();

export async function withHostLock<T>(
  name: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; onWait?: () => void } = {},
): Promise<T> {
  const previous = held.get(name) ?? Promise.resolve();
  const run = previous.then(
    () => lockedRun(name, fn, opts),
    () => lockedRun(name, fn, opts),
  );
  const settled = run.catch(() => undefined);
  held.set(name, settled);
  try {
    return await run;
  } finally {
    if (held.get(name) === settled) held.delete(name);
  }
}

async function lockedRun<T>(
  name: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; onWait?: () => void },
): Promise<T> {
  // in /run: a reboot clears it, so a pid reused after a reboot is never taken for an owner
  const dir = LOCK_DIR;
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.lock`);
  const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
  let told = false;
  for (;;) {
    try {
      const fh = await open(file, 'wx', 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (!owner || !processAlive(owner)) {
        // a crashed owner (or a half-written file: give the writer a moment first)
        if (!owner) await new Promise((r) => setTimeout(r, 100));
        const again = Number((await readFile(file, 'utf8').catch(() => '')).trim());
        if (!again || !processAlive(again)) await unlink(file).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new OperationError(`timed out waiting for the host lock ${file} (held by pid ${owner})`, {
          step: 'lock',
          hint: 'another tpa process is working on this host; wait for it or end it',
        });
      }
      if (!told) {
        opts.onWait?.();
        told = true;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
