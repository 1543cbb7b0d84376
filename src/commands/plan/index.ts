/**
 * `tpa plan DIR`: the changes a deploy would make now, from one fact round trip per host.
 * Changes nothing on the hosts. (It does create the group's TLS material in DIR when it is
 * missing: the plan cannot be computed without it.)
 */
import type { EventSink } from '../../core/events.ts';
import { countChanges } from '../../plan/diff.ts';
import type { Plan } from '../../plan/types.ts';
import { computePlan } from '../../engine/run.ts';
import { DEFAULT_CONCURRENCY, openEngine } from '../deploy/index.ts';

export interface PlanRequest {
  dir: string;
  events: EventSink;
  concurrency?: number;
}

export interface PlanReport {
  plan: Plan;
  changes: number;
  durationMs: number;
  /** hosts that could not be asked (the plan is then incomplete: exit 1) */
  unreachable: string[];
}

export async function plan(req: PlanRequest): Promise<PlanReport> {
  const started = Date.now();
  const engine = await openEngine(req.dir, req.events, req.concurrency ?? DEFAULT_CONCURRENCY);
  try {
    const { plan, facts } = await computePlan(engine.input);
    const unreachable = Object.values(facts)
      .filter((f) => !f.reachable)
      .map((f) => f.host);
    return { plan, changes: countChanges(plan), durationMs: Date.now() - started, unreachable };
  } finally {
    await engine.close();
  }
}
