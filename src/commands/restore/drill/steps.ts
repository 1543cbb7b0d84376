/**
 * What the restore drill's steps share (index.ts): giving up on a running step when the
 * user interrupts, saying in a line why a step failed, finding the primary of now, and
 * forgetting the temporary node on the backup server.
 */
import { OperationError, RemoteCommandError } from '../../../core/errors.ts';
import { BARMAN_HOME, BARMAN_USER } from '../../../components/barman/paths.ts';
import { sh } from '../../../core/shell.ts';
import type { Transport } from '../../../transport/transport.ts';
import type { ClusterAccess } from '../../../clusterdir/connect.ts';
import { IS_IN_RECOVERY } from './plan.ts';

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Wait for `p`, or give up on it at once when the drill is interrupted. */
export function step<T>(signal: AbortSignal | undefined, p: Promise<T>): Promise<T> {
  if (!signal) return p;
  p.catch(() => {}); // abandoned on interruption: its failure must not go unhandled
  if (signal.aborted) return Promise.reject(new Interrupted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function checkInterrupted(signal: AbortSignal | undefined) {
  if (signal?.aborted) throw new Interrupted();
}

const lines = (text: string, n: number) =>
  text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join(' / ');

/** why a step failed, in a line or two: host, step, the end of stderr (not the whole script) */
export function reason(e: unknown): string {
  if (e instanceof Interrupted) return 'interrupted';
  if (e instanceof RemoteCommandError) {
    const d = e.details;
    const status = d.signal ? `killed by ${d.signal}` : `exit code ${d.exitCode}`;
    const tail = lines(d.stderr, 3);
    return `${d.host}: ${d.step ?? 'a command'} failed (${status})${tail ? `: ${tail}` : ''}`;
  }
  const text = e instanceof Error ? e.message.trim().split('\n').slice(0, 4).join(' / ') : String(e);
  return e instanceof OperationError && e.host && !text.startsWith(e.host) ? `${e.host}: ${text}` : text;
}

/** The node of `cluster` that is a primary now (after a failover it is not the configured one). */
export async function currentPrimary(access: ClusterAccess, cluster: string): Promise<string> {
  const nodes = access.inventory.hosts.filter((h) => h.kind === 'postgres' && h.cluster === cluster);
  const answers = await Promise.all(
    nodes.map(async (h) => {
      const r = await access.pool
        .forHost(h.name)
        .exec(IS_IN_RECOVERY, {
          sudo: true,
          check: false,
          timeoutMs: 30_000,
          step: 'restore drill: find the primary',
        })
        .catch((e: unknown) => ({ stdout: '', stderr: reason(e), exitCode: 1 }));
      return { node: h.name, primary: r.exitCode === 0 && r.stdout.trim() === 'f', why: r.stderr.trim() };
    }),
  );
  const primaries = answers.filter((a) => a.primary).map((a) => a.node);
  if (primaries.length === 1) return primaries[0]!;
  throw new OperationError(
    primaries.length === 0
      ? `no node of ${cluster} answers as a primary (${answers.map((a) => `${a.node}: ${a.why || 'standby'}`).join('; ')})`
      : `${cluster} has more than one primary: ${primaries.join(', ')}`,
    { step: 'restore drill: find the primary', hint: `tpa status ${access.dir} shows the cluster` },
  );
}

/** barman's known_hosts line for the temporary node's address goes with the node (best effort) */
export async function forgetOnBarman(bh: Transport, address: string): Promise<void> {
  const kh = `${BARMAN_HOME}/.ssh/known_hosts`;
  await bh
    .exec(
      [
        sh`kh=${kh}`,
        '[ -f "$kh" ] || exit 0',
        sh`grep -vF -- ${`${address} `} "$kh" > "$kh.new" || true`,
        `chown ${BARMAN_USER}:${BARMAN_USER} "$kh.new" && chmod 0600 "$kh.new" && mv "$kh.new" "$kh"`,
      ].join('\n'),
      { sudo: true, check: false, timeoutMs: 30_000, step: 'restore drill: barman known_hosts' },
    )
    .catch(() => undefined);
}
