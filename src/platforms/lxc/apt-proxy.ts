/**
 * apt-cacher-ng on the host: the containers' only way to packages (they have no route out).
 * One instance serves every group from one cache, listening on an address of its own
 * (APT_PROXY, on a bridge without ports) that containers reach through their gateway. It runs
 * as a daemon tracked by its pid file, with a minimal configuration of tpa's own: the stock
 * one remaps Debian mirrors to hosts this machine may not reach.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSink } from '../../core/events.ts';
import { OperationError } from '../../core/errors.ts';
import { sh as cmd } from '../../core/shell.ts';
import { type HostShell } from './host.ts';
import { APT_CACHE_DIR, APT_PROXY, STATE_DIR } from './names.ts';
import { linkExists, stableMac } from './network.ts';

export const ACNG_DIR = join(STATE_DIR, 'apt-cacher-ng');
const CONF_DIR = join(ACNG_DIR, 'conf');
const PID_FILE = join(ACNG_DIR, 'pid');
const LOG_DIR = join(ACNG_DIR, 'log');
const ACNG_USER = 'apt-cacher-ng';

/** The URL containers put in Acquire::http::Proxy. */
export function aptProxyUrl(): string {
  return `http://${APT_PROXY.address}:${APT_PROXY.port}`;
}

/** apt-cacher-ng's configuration: where things go, where it listens; no Remap lines. */
export function acngConfig(opts: { https: boolean }): string {
  const lines = [
    '# written by tpa (lxc platform); see src/platforms/lxc/apt-proxy.ts',
    `CacheDir: ${APT_CACHE_DIR}`,
    `LogDir: ${LOG_DIR}`,
    'SupportDir: /usr/lib/apt-cacher-ng',
    `BindAddress: ${APT_PROXY.address}`,
    `Port: ${APT_PROXY.port}`,
    `PidFile: ${PID_FILE}`,
    `SocketPath: ${join(ACNG_DIR, 'socket')}`,
  ];
  // an https mirror can only be tunnelled (CONNECT), not cached
  if (opts.https) lines.push('PassThroughPattern: :443$');
  return lines.join('\n') + '\n';
}

/** Processes listening on the proxy's port, from `ss`: their local address and pid. */
export function parseListeners(ssOutput: string): Array<{ local: string; pid?: number }> {
  const out: Array<{ local: string; pid?: number }> = [];
  for (const line of ssOutput.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'LISTEN' || !words[3]) continue;
    const pid = /pid=(\d+)/.exec(line)?.[1];
    out.push({ local: words[3], ...(pid ? { pid: Number(pid) } : {}) });
  }
  return out;
}

async function listeners(sh: HostShell): Promise<Array<{ local: string; pid?: number }>> {
  return parseListeners(await sh.run(`ss -Hltnp 'sport = :${APT_PROXY.port}'`, { step: 'apt proxy' }));
}

/** Is our daemon (and nothing else) listening at the proxy's address? */
async function ours(sh: HostShell, pid: number): Promise<boolean> {
  return (await listeners(sh)).some(
    (l) => l.pid === pid && l.local === `${APT_PROXY.address}:${APT_PROXY.port}`,
  );
}

/** The daemon's pid when the pid file names a live apt-cacher-ng process. */
export async function runningPid(): Promise<number | undefined> {
  const pid = Number((await readFile(PID_FILE, 'utf8').catch(() => '')).trim());
  if (!pid) return undefined;
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
  return comm.startsWith('apt-cacher-ng') ? pid : undefined;
}

/** Makes the proxy's address and daemon exist; returns what it changed. Call under the host lock. */
export async function ensureAptProxy(
  sh: HostShell,
  opts: { https: boolean; events?: EventSink },
): Promise<string[]> {
  const changes: string[] = [];
  const where = { step: 'apt proxy' };
  const br = APT_PROXY.bridge;
  if (!(await linkExists(sh, br))) {
    await sh.run(cmd`ip link add name ${br} address ${stableMac(br)} type bridge`, where);
    changes.push(`created ${br} for the apt proxy`);
  }
  const addrs = await sh.run(cmd`ip -4 -o addr show dev ${br}`, where);
  if (!addrs.includes(`inet ${APT_PROXY.address}/`)) {
    await sh.run(cmd`ip addr add ${`${APT_PROXY.address}/32`} dev ${br}`, where);
  }
  if (!/[<,]UP[,>]/.test(await sh.run(cmd`ip -o link show dev ${br}`, where))) {
    await sh.run(cmd`ip link set dev ${br} up`, where);
  }

  const config = acngConfig(opts);
  const confFile = join(CONF_DIR, 'acng.conf');
  const configChanged = (await readFile(confFile, 'utf8').catch(() => '')) !== config;
  if (configChanged) {
    await mkdir(CONF_DIR, { recursive: true });
    await writeFile(confFile, config, { mode: 0o644 });
  }
  let pid = await runningPid();
  if (pid !== undefined && configChanged) {
    await stopDaemon(sh, pid);
    pid = undefined;
  }
  if (pid !== undefined && (await ours(sh, pid))) return changes;
  if (pid !== undefined) await stopDaemon(sh, pid);
  const squatter = (await listeners(sh)).find((l) => /^(0\.0\.0\.0|\*|\[::\]|10\.123\.0\.1):/.test(l.local));
  if (squatter) {
    throw new OperationError(
      `port ${APT_PROXY.port} is taken by another process (${squatter.local}${squatter.pid ? `, pid ${squatter.pid}` : ''})`,
      { step: 'apt proxy', hint: 'stop the other apt-cacher-ng (or whatever listens there) and run again' },
    );
  }

  for (const d of [APT_CACHE_DIR, LOG_DIR]) await mkdir(d, { recursive: true });
  await sh.run(cmd`chown -R ${`${ACNG_USER}:`} ${APT_CACHE_DIR} ${ACNG_DIR}`, where);
  // it daemonises itself; its output goes nowhere so it does not hold our pipes
  await sh.run(
    cmd`runuser -u ${ACNG_USER} -- apt-cacher-ng -c ${CONF_DIR} ForeGround=0 </dev/null >/dev/null 2>&1`,
    where,
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    pid = await runningPid();
    if (pid !== undefined && (await ours(sh, pid))) break;
    if (Date.now() > deadline) {
      throw new OperationError(
        `apt-cacher-ng did not start listening on ${APT_PROXY.address}:${APT_PROXY.port}`,
        {
          step: 'apt proxy',
          hint: `see ${LOG_DIR}/apt-cacher.err`,
        },
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  changes.push(`started apt-cacher-ng on ${APT_PROXY.address}:${APT_PROXY.port}`);
  opts.events?.({
    kind: 'info',
    message: `apt proxy (apt-cacher-ng) listening on ${APT_PROXY.address}:${APT_PROXY.port}`,
  });
  return changes;
}

async function stopDaemon(sh: HostShell, pid: number): Promise<void> {
  await sh.run(cmd`kill ${pid}`, { step: 'apt proxy' });
  const deadline = Date.now() + 10_000;
  while ((await runningPid()) === pid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if ((await runningPid()) === pid) await sh.test(cmd`kill -9 ${pid}`);
}

/** Stops the daemon and removes its address (the cache stays). When no group needs it any more. */
export async function removeAptProxy(sh: HostShell): Promise<string[]> {
  const changes: string[] = [];
  const pid = await runningPid();
  if (pid !== undefined) {
    await stopDaemon(sh, pid);
    changes.push('stopped apt-cacher-ng (no group left)');
  }
  if (await linkExists(sh, APT_PROXY.bridge)) {
    await sh.run(cmd`ip link del ${APT_PROXY.bridge}`, { step: 'apt proxy' });
    changes.push(`removed ${APT_PROXY.bridge}`);
  }
  return changes;
}
