/**
 * Phase `checks`: the components' health checks, all of a host's in one round trip, hosts in
 * parallel. Checks that fail are tried again for a short while (a restarted daemon may need
 * a few seconds to report in) before the deploy is declared failed.
 */
import {
  hostsInScope,
  type Component,
  type DeployContext,
  type HealthCheck,
} from '../components/component.ts';
import type { EventSink } from '../core/events.ts';
import type { Transport } from '../transport/transport.ts';
import type { HostFacts } from '../plan/types.ts';
import { sh } from '../core/shell.ts';
import { redact } from '../transport/shell.ts';
import { failureOf, type HostFailure } from './failure.ts';
import { parallelSnippets } from './parallel-sh.ts';
import { settleLimit } from './pool.ts';

export interface CheckOutcome {
  name: string;
  ok: boolean;
  /** the tail of what a failed check printed */
  output: string;
}

const CHECK_TIMEOUT_S = 30;
const OUTPUT_TAIL_BYTES = 2000;

export function checksFor(components: readonly Component[], ctx: DeployContext): Map<string, HealthCheck[]> {
  const out = new Map<string, HealthCheck[]>();
  for (const host of hostsInScope(ctx)) {
    const checks = components.flatMap((c) => (c.checks && c.appliesTo(host, ctx) ? c.checks(host, ctx) : []));
    if (checks.length) out.set(host.name, checks);
  }
  return out;
}

/** A check as a probe of the fact script (its exit code is the verdict). */
export function checkProbe(c: HealthCheck): string {
  return sh`cd / && timeout ${CHECK_TIMEOUT_S} sh -c ${c.command} 2>&1`;
}

export const CHECK_PROBE_PREFIX = 'tpa-check:';

/** The fact request's probes for these checks, keyed so that checksFromFacts finds them. */
export function checkProbes(checks: HealthCheck[]): Record<string, string> {
  return Object.fromEntries(checks.map((c) => [`${CHECK_PROBE_PREFIX}${c.name}`, checkProbe(c)]));
}

/** The outcomes of checks run as probes; undefined when one of them did not run. */
export function checksFromFacts(
  checks: HealthCheck[],
  facts: HostFacts | undefined,
): CheckOutcome[] | undefined {
  const out: CheckOutcome[] = [];
  for (const c of checks) {
    const key = `${CHECK_PROBE_PREFIX}${c.name}`;
    const code = facts?.probeExitCodes?.[key];
    if (code === undefined) return undefined;
    out.push({ name: c.name, ok: code === 0, output: (facts?.probes[key] ?? '').slice(-OUTPUT_TAIL_BYTES) });
  }
  return out;
}

export function checkScript(checks: HealthCheck[]): string {
  const lines = checks.map(
    (c, i) =>
      sh`o=$(timeout ${CHECK_TIMEOUT_S} sh -c ${c.command} 2>&1); r=$?; ` +
      `printf 'K\\t%s\\t%s\\t' ${i} "$r"; printf '%s' "$o" | tail -c ${OUTPUT_TAIL_BYTES} | base64 -w0; echo`,
  );
  // checks only read: they run side by side (parallel-sh.ts)
  return ['{', 'exec </dev/null', 'cd /', ...parallelSnippets(lines), '}'].join('\n') + '\n';
}

export function parseCheckOutput(checks: HealthCheck[], stdout: string): CheckOutcome[] {
  const seen = new Map<number, { code: number; output: string }>();
  for (const line of stdout.split('\n')) {
    const [tag, i, code, b64] = line.split('\t');
    if (tag !== 'K' || i === undefined) continue;
    seen.set(Number(i), { code: Number(code), output: Buffer.from(b64 ?? '', 'base64').toString('utf8') });
  }
  return checks.map((c, i) => {
    const r = seen.get(i);
    return { name: c.name, ok: r?.code === 0, output: r ? r.output : 'the check did not run' };
  });
}

export interface CheckOptions {
  transports: Record<string, Transport>;
  events: EventSink;
  concurrency: number;
  redact: string[];
  /** how long failing checks are retried; default 20 s */
  settleMs?: number;
  retryDelayMs?: number;
}

async function runHostChecks(
  t: Transport,
  checks: HealthCheck[],
  opts: CheckOptions,
): Promise<CheckOutcome[]> {
  const deadline = Date.now() + (opts.settleMs ?? 20_000);
  let pending = checks;
  const results = new Map<string, CheckOutcome>();
  for (;;) {
    const r = await t.exec(checkScript(pending), {
      sudo: true,
      step: 'health checks',
      redact: opts.redact,
      timeoutMs: (CHECK_TIMEOUT_S + 5) * 1000 * Math.max(1, pending.length),
    });
    for (const o of parseCheckOutput(pending, r.stdout)) results.set(o.name, o);
    pending = pending.filter((c) => !results.get(c.name)?.ok);
    if (pending.length === 0 || Date.now() >= deadline) break;
    await new Promise((res) => setTimeout(res, opts.retryDelayMs ?? 2000));
  }
  return checks.map((c) => results.get(c.name)!);
}

/**
 * Runs every host's checks; returns the failures (empty when the cluster is healthy). `known`:
 * outcomes already in hand (run with the facts of a deploy that then changed nothing); when
 * every one of them passed they are reported without running the checks again.
 */
export async function runChecks(
  checks: Map<string, HealthCheck[]>,
  opts: CheckOptions,
  known?: Map<string, CheckOutcome[] | undefined>,
): Promise<HostFailure[]> {
  const hosts = [...checks.keys()];
  const allKnownPassed = known !== undefined && hosts.every((h) => known.get(h)?.every((o) => o.ok) === true);
  const settled: PromiseSettledResult<CheckOutcome[]>[] = allKnownPassed
    ? hosts.map((h) => ({ status: 'fulfilled', value: known.get(h)! }))
    : await settleLimit(hosts, opts.concurrency, async (host) => {
        const t = opts.transports[host];
        if (!t) throw new Error(`no connection to ${host}`);
        return runHostChecks(t, checks.get(host)!, opts);
      });
  const failures: HostFailure[] = [];
  settled.forEach((s, i) => {
    const host = hosts[i]!;
    if (s.status === 'rejected') {
      const f = failureOf(host, 'health checks', s.reason, opts.redact);
      opts.events({
        kind: 'task',
        host,
        task: 'health checks',
        status: 'failed',
        detail: f.message.split('\n')[0],
      });
      failures.push(f);
      return;
    }
    const bad = s.value.filter((o) => !o.ok);
    const n = s.value.length;
    if (bad.length === 0) {
      opts.events({
        kind: 'task',
        host,
        task: `${n} health check${n === 1 ? '' : 's'} passed`,
        status: 'ok',
      });
    }
    for (const o of bad) {
      const output = redact(o.output.trim(), opts.redact);
      opts.events({
        kind: 'task',
        host,
        task: o.name,
        status: 'failed',
        ...(output ? { detail: output.split('\n').slice(-1)[0] } : {}),
      });
      failures.push({
        host,
        step: `check: ${o.name}`,
        message: `health check failed: ${o.name}${output ? `\n${output}` : ''}`,
      });
    }
  });
  return failures;
}
