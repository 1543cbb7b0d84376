/**
 * Apply one phase: hosts in parallel (bounded), each host's changes in order. A failing host
 * stops its own work; the other hosts finish the phase. Handlers are collected, not run:
 * the caller runs them at the end of the phase (see handlers.ts).
 */
import type { EventSink } from '../core/events.ts';
import type { Change, HandlerName, HostFacts, Resource } from '../plan/types.ts';
import type { Transport } from '../transport/transport.ts';
import {
  aptInstallCommand,
  dedupeHandlers,
  directoryCommand,
  handlerTask,
  handlerUnit,
  parentDirCommand,
  PSQL,
  serviceCommand,
  sqlFor,
} from './commands.ts';
import { settleLimit } from './pool.ts';
import { errorText, failureOf, type HostFailure } from './failure.ts';
import { execHandler } from './handlers.ts';

import { fileBefore, type FileBefore } from './rollback.ts';

export type { HostFailure } from './failure.ts';

export interface ApplyOptions {
  transports: Record<string, Transport>;
  events: EventSink;
  concurrency: number;
  /** secret values to hide in anything reported */
  redact: string[];
}

export interface HostResult {
  host: string;
  applied: Change[];
  /** handlers to run at the end of the phase, deduplicated, in notification order */
  handlers: HandlerName[];
  /** handlers already run during the phase (for actions with afterHandlers) */
  handlersRun: HandlerName[];
  /** the files it changed, as they were before (what a failed restart puts back) */
  before: FileBefore[];
  failure?: HostFailure;
}

export async function applyPhaseChanges(
  changesByHost: Map<string, Change[]>,
  facts: Record<string, HostFacts>,
  opts: ApplyOptions,
): Promise<HostResult[]> {
  const hosts = [...changesByHost.keys()];
  const settled = await settleLimit(hosts, opts.concurrency, (host) =>
    applyHost(host, changesByHost.get(host) ?? [], facts[host], opts),
  );
  return settled.map((s, i) =>
    s.status === 'fulfilled'
      ? s.value
      : {
          host: hosts[i]!,
          applied: [],
          handlers: [],
          handlersRun: [],
          before: [],
          failure: { host: hosts[i]!, step: 'apply', message: errorText(s.reason, opts.redact) },
        },
  );
}

async function applyHost(
  host: string,
  changes: Change[],
  facts: HostFacts | undefined,
  opts: ApplyOptions,
): Promise<HostResult> {
  const t = opts.transports[host];
  const applied: Change[] = [];
  const before: FileBefore[] = [];
  let pending: HandlerName[] = [];
  if (!t) {
    return {
      host,
      applied,
      handlers: [],
      handlersRun: [],
      before,
      failure: { host, step: 'connect', message: `no connection to ${host}` },
    };
  }
  const handlersRun: HandlerName[] = [];
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    // consecutive package changes install in one apt run
    const batch =
      c.resource.kind === 'package' ? takeWhile(changes, i, (x) => x.resource.kind === 'package') : [c];
    if (c.resource.kind === 'action' && c.resource.afterHandlers) {
      for (const h of dedupeHandlers(pending)) {
        const task = handlerTask(h);
        try {
          if ((await execHandler(t, h, opts)) === 'ran') handlersRun.push(h);
        } catch (e) {
          const failure = failureOf(host, task, e, opts.redact);
          opts.events({ kind: 'task', host, task, status: 'failed', detail: failure.message.split('\n')[0] });
          const left = dedupeHandlers(pending).filter((x) => !handlersRun.includes(x));
          return { host, applied, handlers: left, handlersRun, before, failure };
        }
      }
      pending = [];
    }
    const t0 = Date.now();
    try {
      await applyChange(t, batch, facts, opts);
      opts.events({ kind: 'timing', host, what: c.summary, durationMs: Date.now() - t0 });
    } catch (e) {
      const failure = failureOf(host, c.summary, e, opts.redact);
      opts.events({
        kind: 'task',
        host,
        task: c.summary,
        status: 'failed',
        detail: failure.message.split('\n')[0],
      });
      return { host, applied, handlers: dedupeHandlers(pending), handlersRun, before, failure };
    }
    for (const b of batch) {
      opts.events({ kind: 'task', host, task: b.summary, status: 'changed' });
      applied.push(b);
      const was = fileBefore(b, facts);
      if (was) before.push(was);
      pending.push(...(b.notify ?? []));
      const started = startedUnit(b.resource, facts);
      // a unit started after its configuration changed already runs the new configuration
      if (started) pending = pending.filter((h) => handlerUnit(h) !== started);
    }
    i += batch.length - 1;
  }
  return { host, applied, handlers: dedupeHandlers(pending), handlersRun, before };
}

function takeWhile<T>(list: T[], from: number, pred: (x: T) => boolean): T[] {
  const out: T[] = [];
  for (let i = from; i < list.length && pred(list[i]!); i++) out.push(list[i]!);
  return out;
}

function startedUnit(r: Resource, facts: HostFacts | undefined): string | undefined {
  if (r.kind === 'action') return r.starts;
  if (r.kind !== 'service' || r.state !== 'running') return undefined;
  return facts?.services[r.name]?.active ? undefined : r.name;
}

async function applyChange(t: Transport, batch: Change[], facts: HostFacts | undefined, opts: ApplyOptions) {
  const first = batch[0]!;
  const r = first.resource;
  const exec = (command: string, extra: { stdin?: string; redact?: string[]; timeoutMs?: number } = {}) =>
    t.exec(command, {
      sudo: true,
      events: opts.events,
      step: first.summary,
      redact: [...opts.redact, ...(extra.redact ?? [])],
      ...(extra.stdin !== undefined ? { stdin: extra.stdin } : {}),
      ...(extra.timeoutMs !== undefined ? { timeoutMs: extra.timeoutMs } : {}),
    });
  switch (r.kind) {
    case 'package':
      await exec(aptInstallCommand(batch.map((b) => b.resource as Extract<Resource, { kind: 'package' }>)));
      return;
    case 'file':
      if (!facts?.files[r.path]) await exec(parentDirCommand(r.path));
      await t.upload(r.path, r.content, { mode: r.mode, owner: r.owner, group: r.group, sudo: true });
      return;
    case 'directory':
      await exec(directoryCommand(r));
      return;
    case 'service':
      await exec(serviceCommand(r));
      return;
    case 'pg-setting':
      // the component's configuration file carries the value; the change only picks a handler
      return;
    case 'pg-role':
      await exec(PSQL, { stdin: sqlFor(r), redact: r.verifier ? [r.verifier] : [] });
      return;
    case 'pg-database':
      await exec(PSQL, { stdin: sqlFor(r) });
      return;
    case 'action':
      await exec(r.command, {
        ...(r.stdin !== undefined ? { stdin: r.stdin } : {}),
        ...(r.redact ? { redact: r.redact } : {}),
        ...(r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs } : {}),
      });
      return;
  }
}
