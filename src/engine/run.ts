/**
 * The engine: facts -> desired state -> plan, and for deploy, phase by phase: re-gather the
 * facts that earlier phases changed, plan the phase, apply it, run its handlers.
 */
import { adoptableFailovers, type Adoption } from '../plan/adopt.ts';
import { OperationError } from '../core/errors.ts';
import type { EventSink } from '../core/events.ts';
import {
  hostsInScope,
  type Component,
  type DeployContext,
  type HealthCheck,
} from '../components/component.ts';
import { countChanges, diff, PENDING_HANDLERS_FILE } from '../plan/diff.ts';
import {
  PHASES,
  type Change,
  type DesiredHost,
  type HandlerName,
  type HostFacts,
  type Phase,
  type Plan,
} from '../plan/types.ts';
import type { Transport } from '../transport/transport.ts';
import { sh } from '../core/shell.ts';
import { applyPhaseChanges, type HostFailure } from './apply.ts';
import { checkProbes, checksFor, checksFromFacts, runChecks } from './checks.ts';
import { desiredState, factRequests } from './desired.ts';
import { requestCovered, type FactRequest } from './fact-script.ts';
import { gatherAll } from './facts.ts';
import { runHandlers, type HandlerRun } from './handlers.ts';
import type { FileBefore } from './rollback.ts';
import type { RestartGuard } from '../components/component.ts';

export interface EngineInput {
  components: readonly Component[];
  context: Omit<DeployContext, 'facts'>;
  transports: Record<string, Transport>;
  events: EventSink;
  concurrency: number;
  /** secret values hidden in everything reported */
  redact: string[];
  /** how long failing health checks are retried at the end of a deploy (default 20 s) */
  checkSettleMs?: number;
  /**
   * no health checks at the end: a step in the middle of an operation whose cluster is not
   * whole yet (tpa fork, before the node that leaves is promoted and forgotten)
   */
  skipChecks?: boolean;
  /** how facts are gathered; tests replace it, deploys use the fact script */
  gather?: (t: Transport, req: FactRequest) => Promise<HostFacts>;
}

export interface PlanState {
  facts: Record<string, HostFacts>;
  desired: DesiredHost[];
  requests: Record<string, FactRequest>;
}

/** restarts of a primary wait for this phase when its replicas are running (replicas first) */
const PRIMARY_RESTART_DEFERRAL: { from: Phase; to: Phase } = {
  from: 'postgres-primary',
  to: 'postgres-replicas',
};

function ctxWith(input: EngineInput, facts: Record<string, HostFacts>): DeployContext {
  return { ...input.context, facts };
}

/**
 * Gather facts for `hosts` and recompute desired state. Desired state may depend on facts
 * and the fact request on desired state, so a second round trip happens only when the
 * recomputed desired state refers to something the first one did not ask about.
 */
export async function refresh(
  input: EngineInput,
  state: PlanState,
  hosts: readonly string[],
): Promise<PlanState> {
  let { facts, desired, requests } = state;
  for (let round = 0; round < 2; round++) {
    const ask = Object.fromEntries(
      hosts.map((h) => [h, requests[h]!]).filter(([, r]) => r !== undefined),
    ) as Record<string, FactRequest>;
    const tf = Date.now();
    facts = { ...facts, ...(await gatherAll(input.transports, ask, input.concurrency, input.gather)) };
    input.events({
      kind: 'timing',
      what: `facts of ${Object.keys(ask).length} hosts (round ${round + 1})`,
      durationMs: Date.now() - tf,
    });
    desired = desiredState(input.components, ctxWith(input, facts));
    const next = factRequests(input.components, ctxWith(input, facts), desired);
    const stale = hosts.filter((h) => next[h] && ask[h] && !requestCovered(next[h], ask[h]));
    requests = { ...requests, ...next };
    if (stale.length === 0) break;
    hosts = stale;
  }
  return { facts, desired, requests };
}

/**
 * Facts of every host and the full plan (all phases) computed from them. `checks`: health
 * checks to run in the same round trip (their outcomes are probes of the facts).
 */
export async function computePlan(
  input: EngineInput,
  checks?: Map<string, HealthCheck[]>,
): Promise<PlanState & { plan: Plan }> {
  const desired0 = desiredState(input.components, ctxWith(input, {}));
  const requests0 = factRequests(input.components, ctxWith(input, {}), desired0);
  for (const [host, list] of checks ?? []) {
    const r = requests0[host];
    if (r) r.probes = { ...r.probes, ...checkProbes(list) };
  }
  const hosts = hostsInScope(input.context).map((h) => h.name);
  const state = await refresh(input, { facts: {}, desired: desired0, requests: requests0 }, hosts);
  return { ...state, plan: diff(state.desired, state.facts) };
}

export interface DeployOutcome {
  applied: Change[];
  handlers: HandlerRun[];
  hosts: string[];
  durationMs: number;
  /** the plan computed from the facts before anything was applied */
  initialPlan: Plan;
}

export function refusalError(plan: Plan): OperationError {
  const lines = plan.refusals.map((r) => `- ${r.message}`);
  return new OperationError(`deploy refused, nothing was changed:\n${lines.join('\n')}`, {
    ...(plan.refusals[0]?.host !== undefined ? { host: plan.refusals[0].host } : {}),
    step: 'plan',
    hint: 'fix config.yml (or the cluster) so that the plan has no refusals; `tpa plan DIR` shows them',
  });
}

/**
 * The plan was refused because the failover manager moved the primary (plan/adopt.ts): the
 * deploy command records the new primary in config.yml and runs again; nothing was applied.
 */
export class FailoverToAdopt extends OperationError {
  constructor(
    readonly adoptions: Adoption[],
    readonly refusal: OperationError,
  ) {
    super(refusal.message, { step: 'plan' });
  }
}

export async function deploy(input: EngineInput): Promise<DeployOutcome> {
  const started = Date.now();
  // a deploy that changes nothing ends with the checks of what it found: run them right away,
  // in the facts' round trip, instead of in one more afterwards
  const earlyChecks = input.skipChecks ? undefined : checksFor(input.components, ctxWith(input, {}));
  const { plan: initialPlan, ...first } = await computePlan(input, earlyChecks);
  const initialFacts = first.facts;
  let state: PlanState = first;
  for (const w of initialPlan.warnings ?? [])
    input.events({ kind: 'warning', message: w.message, ...hostOf(w) });
  if (initialPlan.refusals.length) {
    const adoptions = adoptableFailovers(state.desired, state.facts);
    if (adoptions.length) throw new FailoverToAdopt(adoptions, refusalError(initialPlan));
    throw refusalError(initialPlan);
  }

  const roles = Object.fromEntries(state.desired.map((d) => [d.host, d.role]));
  const runningReplicaClusters = new Set(
    state.desired
      .filter((d) => d.role === 'replica' && state.facts[d.host]?.postgres)
      .map((d) => d.cluster ?? ''),
  );
  const applied: Change[] = [];
  const handlersRun: HandlerRun[] = [];
  const touched = new Set<string>();
  let dirty = new Set<string>();
  const deferred = new Map<string, HandlerName[]>();
  const before = new Map<string, FileBefore[]>();
  const opts = {
    transports: input.transports,
    events: input.events,
    concurrency: input.concurrency,
    redact: input.redact,
  };
  const handlerOpts = {
    ...opts,
    roles,
    before,
    afterRestart: afterRestartOf(input),
    restartGuards: restartGuardsOf(input),
  };
  /** runs handlers; what did not run is remembered for the next deploy, unless rolled back */
  const handle = async (pending: Map<string, HandlerName[]>): Promise<HostFailure[]> => {
    const h = await runHandlers(pending, handlerOpts);
    handlersRun.push(...h.ran);
    for (const hr of h.ran) dirty.add(hr.host);
    for (const [host, hs] of pending) {
      if (h.rolledBack.includes(host)) continue;
      const done = h.finished.filter((x) => x.host === host).map((x) => x.handler);
      await rememberHandlers(
        input,
        host,
        hs.filter((x) => !done.includes(x)),
      );
    }
    return h.failures;
  };

  for (const phase of PHASES) {
    const inPhase = state.desired.filter((d) => d.phases.some((p) => p.phase === phase)).map((d) => d.host);
    if (inPhase.length === 0 && !(phase === PRIMARY_RESTART_DEFERRAL.to && deferred.size)) continue;
    if (dirty.size > 0) {
      state = await refresh(input, state, [...new Set([...inPhase, ...dirty])]);
      dirty = new Set();
    }
    const plan = diff(state.desired, state.facts, { phases: [phase] });
    if (plan.refusals.length) throw refusalError(plan);
    const byHost = new Map(plan.hosts.filter((h) => h.changes.length > 0).map((h) => [h.host, h.changes]));
    if (byHost.size === 0 && !(phase === PRIMARY_RESTART_DEFERRAL.to && deferred.size)) continue;

    const t0 = Date.now();
    input.events({ kind: 'phase-started', phase, hosts: [...byHost.keys()] });
    const results = await applyPhaseChanges(byHost, state.facts, opts);
    const failures: HostFailure[] = results.flatMap((r) => (r.failure ? [r.failure] : []));
    const pending = new Map<string, HandlerName[]>();
    for (const r of results) {
      applied.push(...r.applied);
      if (r.before.length) before.set(r.host, [...(before.get(r.host) ?? []), ...r.before]);
      handlersRun.push(...r.handlersRun.map((handler) => ({ host: r.host, handler })));
      if (r.applied.length) {
        dirty.add(r.host);
        touched.add(r.host);
      }
      if (r.failure) {
        // the next deploy runs them: the changes that notified them are in place already
        await rememberHandlers(input, r.host, r.handlers);
        continue;
      }
      const now: HandlerName[] = [];
      for (const h of r.handlers) {
        const deferPrimary =
          phase === PRIMARY_RESTART_DEFERRAL.from &&
          h.startsWith('restart:') &&
          roles[r.host] === 'primary' &&
          runningReplicaClusters.has(state.desired.find((d) => d.host === r.host)?.cluster ?? '');
        if (deferPrimary) deferred.set(r.host, [...(deferred.get(r.host) ?? []), h]);
        else now.push(h);
      }
      if (now.length) pending.set(r.host, now);
    }
    if (phase === PRIMARY_RESTART_DEFERRAL.to) {
      for (const [host, hs] of deferred) pending.set(host, [...(pending.get(host) ?? []), ...hs]);
      deferred.clear();
    }
    if (pending.size > 0) failures.push(...(await handle(pending)));
    input.events({ kind: 'phase-finished', phase, ok: failures.length === 0, durationMs: Date.now() - t0 });
    if (failures.length) {
      for (const [host, hs] of deferred) await rememberHandlers(input, host, hs);
      throw failureError(phase, failures);
    }
  }
  if (deferred.size) {
    // no replica phase ran (nothing to change there): restart the primaries now
    const failures = await handle(deferred);
    if (failures.length) throw failureError(PRIMARY_RESTART_DEFERRAL.to, failures);
  }
  const checks = input.skipChecks
    ? new Map<string, HealthCheck[]>()
    : checksFor(input.components, ctxWith(input, state.facts));
  if (checks.size > 0) {
    const t0 = Date.now();
    input.events({ kind: 'phase-started', phase: 'checks', hosts: [...checks.keys()] });
    const unchanged = applied.length === 0 && handlersRun.length === 0;
    const known = unchanged
      ? new Map([...checks].map(([h, list]) => [h, checksFromFacts(list, initialFacts[h])]))
      : undefined;
    const failures = await runChecks(
      checks,
      { ...opts, ...(input.checkSettleMs !== undefined ? { settleMs: input.checkSettleMs } : {}) },
      known,
    );
    input.events({
      kind: 'phase-finished',
      phase: 'checks',
      ok: failures.length === 0,
      durationMs: Date.now() - t0,
    });
    if (failures.length) throw failureError('checks', failures);
  }
  return {
    applied,
    handlers: handlersRun,
    hosts: [...touched],
    durationMs: Date.now() - started,
    initialPlan,
  };
}

/** the first component's wait after a restart of `unit` on `host` (postgres: back and streaming) */
function afterRestartOf(input: EngineInput): (host: string, unit: string) => string | undefined {
  return (host, unit) => {
    const h = input.context.inventory.hosts.find((x) => x.name === host);
    if (!h) return undefined;
    const ctx = ctxWith(input, {});
    for (const c of input.components) {
      if (!c.afterRestart || !c.appliesTo(h, ctx)) continue;
      const wait = c.afterRestart(h, unit, ctx);
      if (wait) return wait;
    }
    return undefined;
  };
}

/** every component's guard around a restart of `unit` on `host` */
function restartGuardsOf(input: EngineInput): (host: string, unit: string) => RestartGuard[] {
  return (host, unit) => {
    const h = input.context.inventory.hosts.find((x) => x.name === host);
    if (!h) return [];
    const ctx = ctxWith(input, {});
    return input.components.flatMap((c) => {
      const g = c.restartGuard && c.appliesTo(h, ctx) ? c.restartGuard(h, unit, ctx) : undefined;
      return g ? [g] : [];
    });
  };
}

function hostOf(x: { host?: string }): { host?: string } {
  return x.host !== undefined ? { host: x.host } : {};
}

async function rememberHandlers(input: EngineInput, host: string, handlers: HandlerName[]): Promise<void> {
  const t = input.transports[host];
  if (!t || handlers.length === 0) return;
  const dir = PENDING_HANDLERS_FILE.slice(0, PENDING_HANDLERS_FILE.lastIndexOf('/'));
  const lines = handlers.map((h) => sh`echo ${h} >> ${PENDING_HANDLERS_FILE}`);
  try {
    await t.exec([sh`mkdir -p ${dir}`, ...lines].join('\n'), {
      sudo: true,
      step: 'remember pending handlers',
    });
  } catch {
    input.events({
      kind: 'warning',
      host,
      message: `could not record pending ${handlers.join(', ')}; run them by hand after fixing the failure`,
    });
  }
}

function failureError(phase: Phase, failures: HostFailure[]): OperationError {
  const first = failures[0]!;
  const others = failures.slice(1).map((f) => `\n- also ${f.host} [${f.step}]: ${f.message.split('\n')[0]}`);
  const standing = failures.flatMap((f) => f.standing ?? []);
  const where = standing.length
    ? `\nwhere each node stands:\n${standing.map((l) => `- ${l}`).join('\n')}`
    : '';
  return new OperationError(`phase ${phase} failed: ${first.message}${others.join('')}${where}`, {
    host: first.host,
    step: first.step,
    hint: 'fix the cause and run tpa deploy again: it continues from where the cluster is',
  });
}

export { countChanges };
