/**
 * `tpa plan DIR`: the changes a deploy would make now, from one fact round trip per host.
 * Changes nothing on the hosts. (It does create the group's TLS material in DIR when it is
 * missing: the plan cannot be computed without it.)
 */
import type { EventSink } from '../core/events.ts';
import { countChanges } from '../plan/diff.ts';
import type { Plan } from '../plan/types.ts';
import { computePlan } from '../engine/run.ts';
import { DEFAULT_CONCURRENCY, openEngine } from './deploy.ts';

export interface PlanRequest {
  dir: string;
  events: EventSink;
  concurrency?: number;
}

export interface PlanReport {
  plan: Plan;
  changes: number;
  durationMs: number;
}

export async function plan(req: PlanRequest): Promise<PlanReport> {
  const started = Date.now();
  const engine = await openEngine(req.dir, req.events, req.concurrency ?? DEFAULT_CONCURRENCY);
  try {
    const { plan } = await computePlan(engine.input);
    return { plan, changes: countChanges(plan), durationMs: Date.now() - started };
  } finally {
    await engine.close();
  }
}
