/**
 * Handlers run once per host at the end of a phase. Across the cluster, replicas (and every
 * other non-primary host) go first and primaries last, so a setting that a standby must
 * have at least as high as its primary (max_connections and friends) is raised in the
 * right order, and the primary is away for the shortest time. Restarts roll (runHandlers).
 */
import type { EventSink } from '../core/events.ts';
import type { RestartGuard } from '../components/component.ts';
import type { HandlerName } from '../plan/types.ts';
import type { Transport } from '../transport/transport.ts';
import { sh } from '../core/shell.ts';
import { HANDLER_SKIPPED, handlerCommand, handlerTask, handlerUnit } from './commands.ts';
import { errorText, failureOf, type HostFailure } from './failure.ts';
import { filesOfUnit, restoreFiles, type FileBefore } from './rollback.ts';
import { settleLimit } from './pool.ts';

export interface HandlerRun {
  host: string;
  handler: HandlerName;
}

export interface HandlerOptions {
  transports: Record<string, Transport>;
  events: EventSink;
  concurrency: number;
  redact: string[];
  /** configured role of each host */
  roles: Record<string, string | undefined>;
  /** the files each host changed in this deploy, as they were before (for a failed restart) */
  before?: Map<string, FileBefore[]>;
  /** shell (root) that returns once `unit` on `host` is back after a restart */
  afterRestart?: (host: string, unit: string) => string | undefined;
  /** what runs around a restart of `unit` on `host` (the failover manager paused for a primary's) */
  restartGuards?: (host: string, unit: string) => RestartGuard[];
}

/** Run one handler and report it: changed, or skipped when its unit is not running. */
export async function execHandler(
  t: Transport,
  h: HandlerName,
  opts: { events: EventSink; redact: string[] },
): Promise<'ran' | 'skipped'> {
  const task = handlerTask(h);
  const r = await t.exec(handlerCommand(h), {
    sudo: true,
    events: opts.events,
    step: task,
    redact: opts.redact,
  });
  const skipped = r.stdout.includes(HANDLER_SKIPPED);
  opts.events({
    kind: 'task',
    host: t.host,
    task,
    status: skipped ? 'skipped' : 'changed',
    ...(skipped ? { detail: 'not running' } : {}),
  });
  return skipped ? 'skipped' : 'ran';
}

/**
 * Run the handlers of several hosts, non-primaries first, then primaries. Reloads run in
 * parallel; restarts roll, one host at a time, each waited for (`afterRestart`: back, and a
 * standby streaming) before the next, so that a cluster never has two nodes down for a
 * restart. A unit that does not start again gets the files that notified it back (rollback.ts)
 * and is started with them; the hosts not restarted yet get theirs back too, and nothing
 * more runs: the error says where each host stands.
 */
export async function runHandlers(
  pending: Map<string, HandlerName[]>,
  opts: HandlerOptions,
): Promise<{ ran: HandlerRun[]; finished: HandlerRun[]; failures: HostFailure[]; rolledBack: string[] }> {
  const hosts = [...pending.keys()].filter((h) => (pending.get(h) ?? []).length > 0);
  const restarts = (h: string) => (pending.get(h) ?? []).some((x) => x.startsWith('restart:'));
  const primary = (h: string) => opts.roles[h] === 'primary';
  // the rolling order: every host that restarts, non-primaries first
  const rolling = [
    ...hosts.filter((h) => restarts(h) && !primary(h)),
    ...hosts.filter((h) => restarts(h) && primary(h)),
  ];
  const waves = [
    {
      parallel: hosts.filter((h) => !restarts(h) && !primary(h)),
      rolling: rolling.filter((h) => !primary(h)),
    },
    { parallel: hosts.filter((h) => !restarts(h) && primary(h)), rolling: rolling.filter(primary) },
  ];
  const ran: HandlerRun[] = [];
  /** ran, or skipped because the unit was not running: nothing left to do for them */
  const finished: HandlerRun[] = [];
  const failures: HostFailure[] = [];
  const rolledBack: string[] = [];
  const runOne = async (host: string, t: Transport | undefined, h: HandlerName): Promise<boolean> => {
    const task = handlerTask(h);
    try {
      if (!t) throw new Error(`no connection to ${host}`);
      if ((await execHandler(t, h, opts)) === 'ran') {
        ran.push({ host, handler: h });
        if (h.startsWith('restart:')) await waitBack(t, handlerUnit(h), opts);
      }
      finished.push({ host, handler: h });
      return true;
    } catch (e) {
      const failure = failureOf(host, task, e, opts.redact);
      opts.events({ kind: 'task', host, task, status: 'failed', detail: failure.message.split('\n')[0] });
      if (t && h.startsWith('restart:') && opts.before) {
        const left = rolling.slice(rolling.indexOf(host) + 1);
        failure.standing = await rollBack(t, host, handlerUnit(h), left, opts);
        rolledBack.push(host, ...left.filter((x) => (opts.before?.get(x) ?? []).length > 0));
      }
      failures.push(failure);
      return false;
    }
  };
  const runHost = async (host: string): Promise<boolean> => {
    const t = opts.transports[host];
    for (const h of pending.get(host) ?? []) {
      const guards = t && h.startsWith('restart:') ? (opts.restartGuards?.(host, handlerUnit(h)) ?? []) : [];
      for (const g of guards) await guardStep(t!, g.before, `before the restart: ${g.what}`, opts);
      let ok: boolean;
      try {
        ok = await runOne(host, t, h);
      } finally {
        for (const g of guards) await guardStep(t!, g.after, `after the restart: ${g.what}`, opts);
      }
      if (!ok) return false;
    }
    return true;
  };
  for (const wave of waves) {
    const settled = await settleLimit(wave.parallel, opts.concurrency, runHost);
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    for (const host of wave.rolling) if (!(await runHost(host))) break;
    // a primary is not restarted when one of its replicas could not be
    if (failures.length) break;
  }
  return { ran, finished, failures, rolledBack };
}

/** a guard's step; a failure is a warning (the restart itself decides the outcome) */
async function guardStep(t: Transport, command: string, what: string, opts: HandlerOptions): Promise<void> {
  try {
    await t.exec(command, { sudo: true, events: opts.events, step: what, redact: opts.redact });
    opts.events({ kind: 'task', host: t.host, task: what, status: 'ok' });
  } catch (e) {
    opts.events({
      kind: 'warning',
      host: t.host,
      message: `${what} failed: ${errorText(e, opts.redact).split('\n')[0]}`,
    });
  }
}

/** after a restart: the unit's own wait (a component's afterRestart), when it has one */
async function waitBack(t: Transport, unit: string, opts: HandlerOptions): Promise<void> {
  const wait = opts.afterRestart?.(t.host, unit);
  if (!wait) return;
  const task = `wait for ${unit}`;
  await t.exec(wait, { sudo: true, events: opts.events, step: task, redact: opts.redact });
  opts.events({ kind: 'task', host: t.host, task, status: 'ok' });
}

/**
 * The unit did not come back: its files as they were, and it started again with them; the
 * hosts after it in the rolling order get theirs back without a restart (they still run the
 * old configuration). Returns where each host stands, for the error.
 */
async function rollBack(
  t: Transport,
  host: string,
  unit: string,
  left: string[],
  opts: HandlerOptions,
): Promise<string[]> {
  const lines: string[] = [];
  const mine = filesOfUnit(opts.before?.get(host) ?? [], unit);
  if (mine.length === 0) {
    // an earlier deploy wrote what it cannot start with: this one has nothing to put back
    return [
      `${host}: ${unit} does not start with the configuration an earlier deploy wrote; it stays stopped until config.yml is fixed`,
    ];
  }
  try {
    const unknown = await restoreFiles(t, mine);
    await t.exec(sh`systemctl start -- ${unit}`, { sudo: true, step: `start ${unit} again` });
    await waitBack(t, unit, opts);
    opts.events({ kind: 'task', host, task: `roll back and start ${unit}`, status: 'changed' });
    lines.push(
      `${host}: ${unit} did not start with the new configuration; its previous configuration is back and it runs again` +
        (unknown.length ? ` (not restored, unknown before: ${unknown.join(', ')})` : ''),
    );
  } catch (e) {
    lines.push(
      `${host}: ${unit} did not start with the new configuration, and the rollback failed too: ${errorText(e, opts.redact).split('\n')[0]}`,
    );
  }
  for (const other of left) {
    const ot = opts.transports[other];
    const files = filesOfUnit(opts.before?.get(other) ?? [], unit);
    if (!ot || files.length === 0) continue;
    try {
      await restoreFiles(ot, files);
      lines.push(`${other}: not restarted; its previous configuration files are back (it runs them still)`);
    } catch (e) {
      lines.push(
        `${other}: not restarted; restoring its files failed: ${errorText(e, opts.redact).split('\n')[0]}`,
      );
    }
  }
  return lines;
}
