/**
 * Gather facts: one `sh -s` round trip per host, hosts in parallel.
 */
import { ConnectionError, OperationError, isTpaError } from '../core/errors.ts';
import type { HostFacts } from '../plan/types.ts';
import type { Transport } from '../transport/transport.ts';
import { buildFactScript, FactParseError, parseFactOutput, type FactRequest } from './fact-script.ts';
import { mapLimit } from './pool.ts';

const FACT_TIMEOUT_MS = 60_000;

export function unreachableFacts(host: string, reason: string): HostFacts {
  return {
    host,
    reachable: false,
    unreachableReason: reason,
    packages: {},
    files: {},
    directories: {},
    services: {},
    probes: {},
  };
}

export async function gatherFacts(t: Transport, req: FactRequest): Promise<HostFacts> {
  let stdout: string;
  let stderr: string;
  if (process.env.TPA_PROFILE)
    (await import('node:fs')).writeFileSync(`/tmp/facts-${t.host}.sh`, buildFactScript(req));
  try {
    ({ stdout, stderr } = await t.exec('sh -s', {
      sudo: true,
      stdin: buildFactScript(req),
      check: false,
      timeoutMs: FACT_TIMEOUT_MS,
      step: 'gather facts',
    }));
  } catch (e) {
    if (e instanceof ConnectionError) return unreachableFacts(t.host, e.message);
    throw e;
  }
  try {
    return parseFactOutput(t.host, req, stdout);
  } catch (e) {
    if (!(e instanceof FactParseError)) throw e;
    const tail = stderr.trim().split('\n').slice(-10).join('\n');
    throw new OperationError(`${t.host}: could not gather facts (${e.message})${tail ? `\n${tail}` : ''}`, {
      host: t.host,
      step: 'gather facts',
      hint: 'the login user needs root or passwordless sudo, and the host needs sh, coreutils and systemd',
    });
  }
}

/** Facts of several hosts at once; an unreachable host yields reachable: false, not an error. */
export async function gatherAll(
  transports: Record<string, Transport>,
  requests: Record<string, FactRequest>,
  concurrency: number,
  gather: (t: Transport, req: FactRequest) => Promise<HostFacts> = gatherFacts,
): Promise<Record<string, HostFacts>> {
  const hosts = Object.keys(requests);
  const results = await mapLimit(hosts, concurrency, async (host) => {
    const t = transports[host];
    if (!t) return unreachableFacts(host, 'no connection');
    try {
      return await gather(t, requests[host]!);
    } catch (e) {
      if (isTpaError(e)) throw e;
      throw new OperationError(`${host}: could not gather facts: ${(e as Error).message}`, { host });
    }
  });
  return Object.fromEntries(hosts.map((h, i) => [h, results[i]!]));
}
