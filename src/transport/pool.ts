/**
 * One transport per host for the duration of a command, and a bounded-parallel "run this
 * on every host" that reports each host's outcome instead of stopping at the first failure.
 */
import { OperationError } from '../core/errors.ts';
import type { Transport } from './transport.ts';

export type TransportFactory = (host: string) => Transport;

export type HostOutcome<T> =
  | { host: string; ok: true; value: T }
  | {
      host: string;
      ok: false;
      error: unknown;
      /** not started because another host failed (failFast) */ skipped?: true;
    };

export interface AllOptions {
  /** hosts worked on at once; default the pool's (16) */
  concurrency?: number;
  /** start no further host after the first failure; the rest are reported as skipped */
  failFast?: boolean;
}

export class TransportPool {
  private readonly transports = new Map<string, Transport>();
  private readonly concurrency: number;

  constructor(
    private readonly factory: TransportFactory,
    opts: { concurrency?: number } = {},
  ) {
    this.concurrency = positive(opts.concurrency ?? 16);
  }

  /** The cached transport of a host, created on first use. */
  forHost(host: string): Transport {
    let t = this.transports.get(host);
    if (!t) {
      t = this.factory(host);
      this.transports.set(host, t);
    }
    return t;
  }

  /** Run fn for every host, at most `concurrency` at a time; outcomes in the order of `hosts`. */
  async all<T>(
    hosts: readonly string[],
    fn: (transport: Transport, host: string) => Promise<T>,
    opts: AllOptions = {},
  ): Promise<HostOutcome<T>[]> {
    const limit = positive(opts.concurrency ?? this.concurrency);
    const outcomes: HostOutcome<T>[] = new Array<HostOutcome<T>>(hosts.length);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < hosts.length) {
        const i = next++;
        const host = hosts[i]!;
        if (failed && opts.failFast) {
          outcomes[i] = {
            host,
            ok: false,
            skipped: true,
            error: new OperationError(`${host}: not run because another host failed`, { host }),
          };
          continue;
        }
        try {
          outcomes[i] = { host, ok: true, value: await fn(this.forHost(host), host) };
        } catch (error) {
          failed = true;
          outcomes[i] = { host, ok: false, error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, hosts.length) }, worker));
    return outcomes;
  }

  /** Close every transport (errors while closing are ignored: we are done with them). */
  async closeAll(): Promise<void> {
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.allSettled(all.map((t) => t.close()));
  }
}

function positive(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`concurrency must be a positive integer, not ${n}`);
  return n;
}

/** The values of an all() run, or throw the first host's error (for callers that need every host). */
export function valuesOrThrow<T>(outcomes: HostOutcome<T>[]): T[] {
  const bad = outcomes.find((o) => !o.ok && !o.skipped) ?? outcomes.find((o) => !o.ok);
  if (bad && !bad.ok) throw bad.error;
  return outcomes.map((o) => (o as { value: T }).value);
}
