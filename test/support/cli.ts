/**
 * What the lxc integration tests share to drive the CLI and clean up after it: run a command
 * (it never rejects: exit code and output), read the result a `--json` command prints, poll
 * until something holds, read inventory.json, and find or remove what a group left on the
 * host by its name prefix (containers, links, nft tables).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Inventory } from '../../src/platforms/platform.ts';

/** the CLI as a user runs it */
export const TPA = fileURLToPath(new URL('../../bin/tpa', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** the whole environment of the command (default: this process's) */
  env?: NodeJS.ProcessEnv;
  /** killed after this long (default 10 minutes) */
  timeoutMs?: number;
}

/** A command's exit code and output; a command that cannot start or is killed gives code 1. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

/** A shell script on this host. */
export const sh = (script: string, opts: RunOptions = {}) => run('/bin/sh', ['-c', script], opts);

/**
 * The document a `--json` command prints last: progress events come before it one per line,
 * and the document is a single line or pretty-printed (starting at a line that is just `{`).
 */
export function lastJson<T>(r: Run): T {
  const lines = r.stdout.trimEnd().split('\n');
  const start = lines.lastIndexOf('{');
  const text = start >= 0 ? lines.slice(start).join('\n') : lines.at(-1)!;
  try {
    return JSON.parse(text) as T;
  } catch {
    assert.fail(`no JSON document at the end of:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }
}

/** The output of a command that prints one JSON document and nothing else. */
export function fullJson<T>(r: Run): T {
  return JSON.parse(r.stdout) as T;
}

/** Asks `probe` every 3 s until it says yes; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 3000));
  }
  assert.fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

/** The environment that keeps a test's vault key and cached keys in its own directory, uncoloured. */
export function tpaEnv(work: string): { TPA_KEY_FILE: string; TPA_CACHE_DIR: string; NO_COLOR: string } {
  return { TPA_KEY_FILE: join(work, 'secret.key'), TPA_CACHE_DIR: join(work, 'cache'), NO_COLOR: '1' };
}

/** DIR/inventory.json as provision wrote it. */
export async function readInventory(dir: string): Promise<Inventory> {
  return JSON.parse(await readFile(join(dir, 'inventory.json'), 'utf8')) as Inventory;
}

/**
 * Everything on the host that carries the prefix: containers, network links, nft tables and,
 * unless `cgroups` is false, cgroup directories.
 */
export async function leftovers(p: string, { cgroups = true } = {}): Promise<string[]> {
  const found: string[] = [];
  const containers = (await sh('lxc-ls -1')).stdout.split('\n').filter((c) => c.startsWith(p));
  found.push(...containers.map((c) => `container ${c}`));
  const links = (await sh('ip -o link show')).stdout.match(/^\d+:\s+([^:@\s]+)/gm) ?? [];
  found.push(
    ...links
      .map((l) => l.replace(/^\d+:\s+/, ''))
      .filter((l) => l.startsWith(p))
      .map((l) => `link ${l}`),
  );
  const tables = (await sh('nft list tables')).stdout
    .split('\n')
    .filter((l) => l.split(' ')[2]?.startsWith(p));
  found.push(...tables.map((t) => `nft ${t}`));
  if (!cgroups) return found;
  for (const h of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const entries = await readdir(join('/sys/fs/cgroup', h)).catch(() => [] as string[]);
    found.push(...entries.filter((e) => e.includes(p)).map((e) => `cgroup ${h}/${e}`));
  }
  return found;
}

/**
 * Removes what a group left on the host whatever happened to it: its containers (`p-*`),
 * links and nft tables whose names start with the prefix.
 */
export async function removePrefixed(p: string, opts: RunOptions = {}): Promise<void> {
  await sh(`for c in $(lxc-ls -1 | grep '^${p}-'); do lxc-stop -k -n "$c"; lxc-destroy -n "$c"; done`, opts);
  await sh(
    `for l in $(ip -o link show | sed -n 's/^[0-9]*: \\(${p}[^:@]*\\).*/\\1/p'); do ip link del "$l"; done`,
    opts,
  );
  await sh(
    `nft list tables | awk '$3 ~ /^${p}/ {print $2, $3}' | while read f t; do nft delete table "$f" "$t"; done`,
    opts,
  );
}
