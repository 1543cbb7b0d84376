/**
 * One fault under a write load, as the failover tests and the failover benchmark run it: the
 * ledger (ledger.ts) writes through every pooler, the fault is injected with `tpa fault`, and
 * the drill ends when `done` holds (e.g. a new primary took writes) or after `maxMs`; then the
 * ledger is read back from the primary of now (`tpa status`).
 */
import type { Inventory } from '../../src/platforms/platform.ts';
import { SECRETS } from '../../src/components/postgres/paths.ts';
import { getSecret } from '../../src/secrets/vault.ts';
import type { StatusReport } from '../../src/commands/status/index.ts';
import { Ledger, type Endpoint, type LedgerReport } from './ledger.ts';
import { lastJson, readInventory, run, TPA } from './cli.ts';

export interface DrillResult extends LedgerReport {
  fault: string;
  /** ms since the ledger started: `tpa fault` started, and returned with the fault in place */
  faultSentAt: number;
  faultAt: number;
  /** first write acknowledged by another node than the primary before the fault (ms after the fault) */
  newPrimaryAfterMs?: number;
  /** per pooler: the first write after the fault acknowledged by another node than the old primary (ms after the fault) */
  poolerRecoveryMs: Record<string, number>;
  /** the primary before and after */
  before: string;
  after: string | null;
}

export interface DrillOptions {
  env: NodeJS.ProcessEnv;
  /** `tpa fault` arguments after DIR */
  fault: string[];
  /** writes before the fault */
  warmupMs?: number;
  /** stop early when this holds (checked every 250 ms) */
  done?: (l: Ledger, faultAt: number) => boolean;
  /** writes after `done` held, to see the new state settle */
  afterMs?: number;
  maxMs: number;
}

export async function clusterStatus(dir: string, env: NodeJS.ProcessEnv): Promise<StatusReport> {
  const r = await run(TPA, ['status', dir, '--json'], { env });
  return lastJson<StatusReport>(r);
}

/**
 * What the failover managers saw, for a failed drill's message: each node's last repmgrd lines
 * (a frozen or powered-off container says so instead of hanging the test).
 */
export async function managerLogs(dir: string, lines = 40): Promise<string> {
  const inv = await readInventory(dir);
  const parts: string[] = [];
  for (const h of inv.hosts.filter((x) => x.kind === 'postgres' && x.platformId)) {
    if (!h.platformId) continue;
    const state = (await run('lxc-info', ['-n', h.platformId, '-sH'], { timeoutMs: 10_000 })).stdout.trim();
    if (state !== 'RUNNING') {
      parts.push(`== ${h.name}: ${state || 'unknown'}`);
      continue;
    }
    const r = await run(
      'lxc-attach',
      [
        '-n',
        h.platformId,
        '--',
        'journalctl',
        '-u',
        'repmgrd',
        '-n',
        String(lines),
        '--no-pager',
        '-o',
        'cat',
      ],
      { timeoutMs: 15_000 },
    );
    parts.push(`== ${h.name}\n${(r.stdout + r.stderr).trim()}`);
  }
  return parts.join('\n');
}

export function endpoints(inv: Inventory, port: number): Endpoint[] {
  return inv.hosts
    .filter((h) => h.kind === 'postgres')
    .map((h) => ({ name: h.name, address: h.address, port }));
}

/** a write acknowledged by another server than `old`, after `at` */
export const newPrimaryWrote = (l: Ledger, at: number, oldAddress: string, via?: string) =>
  l.writes.some(
    (w) =>
      w.ackedAt !== undefined &&
      w.ackedAt > at &&
      w.server !== oldAddress &&
      (via === undefined || w.via === via),
  );

export async function drill(dir: string, cluster: string, o: DrillOptions): Promise<DrillResult> {
  const env = o.env;
  const inv = await readInventory(dir);
  const nodes = endpoints(inv, 5432);
  const poolers = endpoints(inv, 6432);
  const before = (await clusterStatus(dir, env)).primaries[cluster];
  if (!before) throw new Error(`cluster ${cluster} has no primary before the drill`);
  const oldAddress = nodes.find((n) => n.name === before)!.address;
  const saved = process.env.TPA_KEY_FILE;
  process.env.TPA_KEY_FILE = env.TPA_KEY_FILE;
  const password = await getSecret(dir, SECRETS.postgres).finally(() => {
    if (saved === undefined) delete process.env.TPA_KEY_FILE;
    else process.env.TPA_KEY_FILE = saved;
  });
  const ledger = new Ledger(poolers, nodes, password);
  await ledger.start(nodes.find((n) => n.name === before)!);
  try {
    await new Promise((r) => setTimeout(r, o.warmupMs ?? 3000));
    const faultSentAt = ledger.elapsed();
    const f = await run(TPA, ['fault', dir, ...o.fault], { env });
    if (f.code !== 0) throw new Error(`tpa fault ${o.fault.join(' ')}: ${f.stderr}`);
    // the fault is in place when the command returns (its CLI start-up is not the cluster's time)
    const faultAt = ledger.elapsed();
    const deadline = faultAt + o.maxMs;
    while (ledger.elapsed() < deadline && !(o.done?.(ledger, faultAt) ?? false)) {
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, o.afterMs ?? 2000));
    await ledger.stop();
    const after = (await clusterStatus(dir, env)).primaries[cluster] ?? null;
    const reader = nodes.find((n) => n.name === (after ?? before))!;
    const report = await ledger.verify(reader);
    const firstNew = ledger.writes
      .filter((w) => w.ackedAt !== undefined && w.ackedAt > faultAt && w.server !== oldAddress)
      .sort((a, b) => a.ackedAt! - b.ackedAt!)[0];
    const poolerRecoveryMs: Record<string, number> = {};
    for (const w of ledger.writes) {
      if (w.ackedAt === undefined || w.ackedAt <= faultAt || w.server === oldAddress) continue;
      const ms = w.ackedAt - faultAt;
      if (poolerRecoveryMs[w.via] === undefined || ms < poolerRecoveryMs[w.via]!)
        poolerRecoveryMs[w.via] = ms;
    }
    return {
      ...report,
      poolerRecoveryMs,
      fault: o.fault.join(' '),
      faultSentAt,
      faultAt,
      ...(firstNew ? { newPrimaryAfterMs: firstNew.ackedAt! - faultAt } : {}),
      before,
      after,
    };
  } finally {
    await ledger.dispose();
  }
}

export interface OperationDrill extends LedgerReport {
  /** the cluster's primary before and after the operation */
  from: string;
  to: string | null;
  /** the command's own outcome (exit code; its last error lines when it failed) */
  code: number;
  stderr?: string;
  /** its --json result, when it printed one */
  result?: Record<string, unknown>;
  /** writes that failed while the operation ran (sent after it started, answered before it ended) */
  failedDuring: number;
  /** the first errors seen, for the log */
  errors: string[];
  durationMs: number;
}

export interface SwitchoverDrill extends OperationDrill {
  stallMs?: number;
}

/**
 * `tpa <command> DIR --json ...args` under the ledger (switchover, upgrade, resize): clients
 * connect through every pooler with a 10 s timeout, as applications do.
 */
export async function operationDrill(
  command: string,
  dir: string,
  cluster: string,
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<OperationDrill> {
  const inv = await readInventory(dir);
  const nodes = endpoints(inv, 5432).filter((n) =>
    inv.hosts.some((h) => h.name === n.name && h.cluster === cluster),
  );
  const before = (await clusterStatus(dir, env)).primaries[cluster]!;
  const saved = process.env.TPA_KEY_FILE;
  process.env.TPA_KEY_FILE = env.TPA_KEY_FILE;
  const password = await getSecret(dir, SECRETS.postgres).finally(() => {
    if (saved === undefined) delete process.env.TPA_KEY_FILE;
    else process.env.TPA_KEY_FILE = saved;
  });
  const poolers = endpoints(inv, 6432).filter((n) => nodes.some((x) => x.name === n.name));
  const ledger = new Ledger(poolers, nodes, password, 10);
  await ledger.start(nodes.find((n) => n.name === before)!);
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const startedAt = ledger.elapsed();
    const r = await run(TPA, [command, dir, '--json', ...args], { env, timeoutMs: 1_800_000 });
    const endedAt = ledger.elapsed();
    await new Promise((res) => setTimeout(res, 3000));
    await ledger.stop();
    const after = (await clusterStatus(dir, env)).primaries[cluster] ?? null;
    const report = await ledger.verify(nodes.find((n) => n.name === (after ?? before))!);
    const failed = ledger.writes.filter(
      (w) => w.error !== undefined && w.sentAt >= startedAt && w.sentAt <= endedAt,
    );
    let result: Record<string, unknown> | undefined;
    try {
      result = lastJson<Record<string, unknown>>(r);
    } catch {
      result = undefined;
    }
    return {
      ...report,
      from: before,
      to: after,
      code: r.code,
      ...(r.code !== 0 ? { stderr: r.stderr.trim().split('\n').slice(-3).join(' | ') } : {}),
      ...(result !== undefined ? { result } : {}),
      failedDuring: failed.length,
      errors: [...new Set(failed.map((w) => w.error ?? ''))].slice(0, 5),
      durationMs: endedAt - startedAt,
    };
  } finally {
    await ledger.dispose();
  }
}

/** `tpa switchover DIR ...args` under the ledger */
export async function switchoverDrill(
  dir: string,
  cluster: string,
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<SwitchoverDrill> {
  const d = await operationDrill('switchover', dir, cluster, env, args);
  const stallMs = d.result?.stallMs;
  return { ...d, ...(typeof stallMs === 'number' ? { stallMs } : {}) };
}
