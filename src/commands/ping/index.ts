/**
 * `tpa ping`: can tpa reach every host over SSH, with the recorded host key, right now?
 * One connection and one trivial command per host, all hosts at once.
 */
import { isTpaError, OperationError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { SshTransport } from '../../transport/ssh.ts';
import { connectCluster } from '../../clusterdir/connect.ts';

export interface PingResult {
  node: string;
  role: string;
  cluster?: string;
  address: string;
  port: number;
  ok: boolean;
  /** TCP connect + handshake + authentication */
  connectMs?: number;
  /** one command on the open connection and its answer */
  latencyMs?: number;
  error?: string;
  hint?: string;
}

export interface PingOptions {
  events?: EventSink;
  /** per host, for the connection; default 5 s (a frozen host fails after this long) */
  timeoutMs?: number;
}

export interface PingReport {
  group: string;
  ok: boolean;
  hosts: PingResult[];
}

export async function pingCluster(dir: string, opts: PingOptions = {}): Promise<PingReport> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const access = await connectCluster(dir, {
    // no retries: ping reports the state of the hosts now, not after they recover
    transport: { connectTimeoutMs: timeoutMs, connectRetries: 0 },
    concurrency: 64,
    ...(opts.events ? { events: opts.events } : {}),
  });
  try {
    const outcomes = await access.pool.all(access.hosts, async (t) => {
      const started = performance.now();
      if (t instanceof SshTransport) await t.connect();
      const connected = performance.now();
      const r = await t.exec('echo tpa-pong', { timeoutMs: timeoutMs + 5000, step: 'ping' });
      if (r.stdout.trim() !== 'tpa-pong') {
        throw new OperationError(`${t.host}: unexpected answer to ping: ${r.stdout.slice(0, 80)}`, {
          host: t.host,
        });
      }
      return { connectMs: connected - started, latencyMs: performance.now() - connected };
    });
    const hosts = outcomes.map((o, i): PingResult => {
      const h = access.inventory.hosts[i]!;
      const base = {
        node: h.name,
        role: h.role,
        ...(h.cluster !== undefined ? { cluster: h.cluster } : {}),
        address: h.address,
        port: h.sshPort,
      };
      if (o.ok) {
        return {
          ...base,
          ok: true,
          connectMs: Math.round(o.value.connectMs),
          latencyMs: Math.round(o.value.latencyMs),
        };
      }
      const e = o.error;
      const message = e instanceof Error ? e.message : String(e);
      return {
        ...base,
        ok: false,
        // the host name is in its own column
        error: message.startsWith(`${h.name}: `) ? message.slice(h.name.length + 2) : message,
        ...(isTpaError(e) && e.hint ? { hint: e.hint } : {}),
      };
    });
    for (const r of hosts) {
      opts.events?.({
        kind: 'task',
        host: r.node,
        task: 'ping',
        status: r.ok ? 'ok' : 'failed',
        detail: r.ok ? `${r.latencyMs} ms` : (r.error ?? ''),
      });
    }
    return { group: access.inventory.group, ok: hosts.every((h) => h.ok), hosts };
  } finally {
    await access.close();
  }
}
