/**
 * Runs the observation script on many nodes at once (one round trip each) and sorts the
 * answers into observations and unreachable nodes.
 */
import { RemoteCommandError } from '../core/errors.ts';
import type { InventoryHost } from '../platforms/platform.ts';
import { CommandTimeoutError } from '../transport/transport.ts';
import type { ClusterAccess } from '../clusterdir/connect.ts';
import type { Observed } from './cluster-view.ts';
import { buildObserveScript, parseObservation, type ObserveRequest } from './observe.ts';
import type { NodeObservation } from './observation.ts';

export interface GatherOptions {
  /** what to ask each host */
  request: (host: InventoryHost) => ObserveRequest;
  /** fed on stdin (the superuser's password, when the request has a client part) */
  stdin?: (host: InventoryHost) => string | undefined;
  redact?: string[];
  /** per host; default 90 s */
  timeoutMs?: number;
  /** default: the postgres nodes */
  hosts?: InventoryHost[];
}

/** why a host gave no observation, without the script (RemoteCommandError quotes the command) */
function message(e: unknown, host: string): string {
  if (e instanceof CommandTimeoutError) return `no answer within ${Math.round(e.timeoutMs / 1000)} s`;
  if (e instanceof RemoteCommandError) {
    const d = e.details;
    const tail = d.stderr.trim().split('\n').at(-1) ?? '';
    return `observation failed (${d.signal ? `killed by ${d.signal}` : `exit code ${d.exitCode}`})${tail ? `: ${tail}` : ''}`;
  }
  const text = e instanceof Error ? e.message : String(e);
  return text.startsWith(`${host}: `) ? text.slice(host.length + 2) : text;
}

export async function gatherObservations(access: ClusterAccess, opts: GatherOptions): Promise<Observed> {
  const hosts = opts.hosts ?? access.inventory.hosts.filter((h) => h.kind === 'postgres');
  const outcomes = await access.pool.all(
    hosts.map((h) => h.name),
    async (t, name): Promise<NodeObservation> => {
      const host = hosts.find((h) => h.name === name)!;
      const stdin = opts.stdin?.(host);
      const r = await t.exec(buildObserveScript(opts.request(host)), {
        sudo: true,
        check: false,
        timeoutMs: opts.timeoutMs ?? 90_000,
        step: 'observe',
        ...(stdin !== undefined ? { stdin } : {}),
        ...(opts.redact ? { redact: opts.redact } : {}),
      });
      return parseObservation(name, r.stdout);
    },
  );
  const observations: Record<string, NodeObservation> = {};
  const unreachable: Record<string, string> = {};
  for (const o of outcomes) {
    if (o.ok) observations[o.host] = o.value;
    else unreachable[o.host] = message(o.error, o.host);
  }
  return { config: access.config, inventory: access.inventory, observations, unreachable };
}
