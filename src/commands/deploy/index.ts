/**
 * `tpa deploy DIR`: config + inventory + secrets -> facts -> plan -> apply, phase by phase.
 * Idempotent: on a converged cluster it gathers facts once per host and says "no changes".
 */
import type { EventSink } from '../../core/events.ts';
import { components } from '../../components/registry.ts';
import { ensureTls } from '../../components/tls/ensure.ts';
import { changeJson, type ChangeJson } from '../../plan/render.ts';
import { MIN_SECRET_LENGTH } from '../../secrets/redact.ts';
import { loadAllSecrets } from '../../secrets/vault.ts';
import type { ExecResult, Transport } from '../../transport/transport.ts';
import { deploy as runDeploy, FailoverToAdopt, type EngineInput } from '../../engine/run.ts';
import { recordFailovers } from './adopt.ts';
import { commitDirFiles } from '../../clusterdir/commit-files.ts';
import { connectCluster } from '../../clusterdir/connect.ts';

export const DEFAULT_CONCURRENCY = 10;

export interface DeployRequest {
  dir: string;
  events: EventSink;
  /** hosts worked on at once */
  concurrency?: number;
  /** only these hosts (DeployContext.only); default every host of the inventory */
  only?: readonly string[];
  /** no health checks at the end (EngineInput.skipChecks) */
  skipChecks?: boolean;
}

export interface DeployReport {
  ok: true;
  /** changes applied (handlers not counted) */
  changes: number;
  /** hosts that changed */
  hosts: string[];
  durationMs: number;
  summary: string;
  applied: ChangeJson[];
  handlers: { host: string; handler: string }[];
}

/** A host whose transport could not be made (e.g. no recorded host key): every use says why. */
class UnavailableTransport implements Transport {
  constructor(
    readonly host: string,
    private readonly error: unknown,
  ) {}
  exec(): Promise<ExecResult> {
    return Promise.reject(this.error instanceof Error ? this.error : new Error(String(this.error)));
  }
  upload(): Promise<void> {
    return Promise.reject(this.error instanceof Error ? this.error : new Error(String(this.error)));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface OpenEngine {
  input: EngineInput;
  dir: string;
  close(): Promise<void>;
}

/** Everything plan and deploy need: config, inventory, secrets (TLS made when missing), transports. */
export async function openEngine(
  dir: string,
  events: EventSink,
  concurrency = DEFAULT_CONCURRENCY,
  only?: readonly string[],
): Promise<OpenEngine> {
  const access = await connectCluster(dir, { events, concurrency });
  try {
    const secrets = await loadAllSecrets(access.dir);
    const tls = await ensureTls(access.dir, access.inventory);
    if (tls.files.length > 0) {
      await commitDirFiles(access.dir, tls.files, `tls: ${tls.changes.join('; ')}`);
      for (const c of tls.changes) events({ kind: 'info', message: c });
    }
    const allSecrets = { ...secrets, ...tls.secrets };
    const transports: Record<string, Transport> = {};
    for (const host of access.hosts) {
      try {
        transports[host] = access.pool.forHost(host);
      } catch (e) {
        transports[host] = new UnavailableTransport(host, e);
      }
    }
    const input: EngineInput = {
      components,
      context: {
        config: access.config,
        inventory: access.inventory,
        secrets: allSecrets,
        ...(only ? { only } : {}),
      },
      transports,
      events,
      concurrency,
      redact: Object.values(allSecrets).filter((s) => s.length >= MIN_SECRET_LENGTH),
    };
    return { input, dir: access.dir, close: () => access.close() };
  } catch (e) {
    await access.close();
    throw e;
  }
}

export function summarise(changes: number, hosts: number, durationMs: number): string {
  if (changes === 0) return `no changes (${(durationMs / 1000).toFixed(1)} s)`;
  return `${changes} change${changes === 1 ? '' : 's'} on ${hosts} host${hosts === 1 ? '' : 's'} in ${(durationMs / 1000).toFixed(1)} s`;
}

export async function deploy(req: DeployRequest): Promise<DeployReport> {
  try {
    return await deployOnce(req);
  } catch (e) {
    if (!(e instanceof FailoverToAdopt)) throw e;
    // the failover manager moved the primary: record it, then deploy what config.yml says now
    await recordFailovers(req.dir, e.adoptions, req.events);
    return deployOnce(req);
  }
}

async function deployOnce(req: DeployRequest): Promise<DeployReport> {
  const started = Date.now();
  const engine = await openEngine(req.dir, req.events, req.concurrency, req.only);
  req.events({
    kind: 'timing',
    what: 'configuration, secrets, TLS, connections',
    durationMs: Date.now() - started,
  });
  try {
    const out = await runDeploy({ ...engine.input, ...(req.skipChecks ? { skipChecks: true } : {}) });
    const durationMs = Date.now() - started;
    const summary = summarise(out.applied.length, out.hosts.length, durationMs);
    req.events({ kind: 'done', ok: true, summary });
    return {
      ok: true,
      changes: out.applied.length,
      hosts: out.hosts,
      durationMs,
      summary,
      applied: out.applied.map(changeJson),
      handlers: out.handlers.map((h) => ({ host: h.host, handler: h.handler })),
    };
  } finally {
    await engine.close();
  }
}
