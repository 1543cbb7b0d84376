/**
 * Handlers run once per host at the end of a phase. Across the cluster, replicas (and every
 * other non-primary host) go first and primaries last, so a setting that a standby must
 * have at least as high as its primary (max_connections and friends) is raised in the
 * right order, and the primary is away for the shortest time.
 */
import type { EventSink } from '../core/events.ts';
import type { HandlerName } from '../plan/types.ts';
import type { Transport } from '../transport/transport.ts';
import { HANDLER_SKIPPED, handlerCommand, handlerTask } from './commands.ts';
import { failureOf, type HostFailure } from './failure.ts';
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

/** Run the handlers of several hosts: non-primaries in parallel, then primaries in parallel. */
export async function runHandlers(
  pending: Map<string, HandlerName[]>,
  opts: HandlerOptions,
): Promise<{ ran: HandlerRun[]; failures: HostFailure[] }> {
  const hosts = [...pending.keys()].filter((h) => (pending.get(h) ?? []).length > 0);
  const waves = [
    hosts.filter((h) => opts.roles[h] !== 'primary'),
    hosts.filter((h) => opts.roles[h] === 'primary'),
  ];
  const ran: HandlerRun[] = [];
  const failures: HostFailure[] = [];
  for (const wave of waves) {
    if (wave.length === 0) continue;
    const settled = await settleLimit(wave, opts.concurrency, async (host) => {
      const t = opts.transports[host];
      for (const h of pending.get(host) ?? []) {
        const task = handlerTask(h);
        try {
          if (!t) throw new Error(`no connection to ${host}`);
          if ((await execHandler(t, h, opts)) === 'ran') ran.push({ host, handler: h });
        } catch (e) {
          const failure = failureOf(host, task, e, opts.redact);
          opts.events({ kind: 'task', host, task, status: 'failed', detail: failure.message.split('\n')[0] });
          failures.push(failure);
          return;
        }
      }
    });
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    // a primary is not restarted when one of its replicas could not be
    if (failures.length) break;
  }
  return { ran, failures };
}
