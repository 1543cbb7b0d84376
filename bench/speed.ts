/**
 * Issue 12's targets, as medians of BENCH_RUNS runs (default 5) of whole `bin/tpa` processes:
 *   - warm demo: provision + deploy of the demo's shape (3 nodes, repmgr, pgbouncer), <= 45 s
 *   - the floor: a plain script doing the minimum by hand on the same kind of containers
 *     (packages on every node at once, the primary, replicas cloned with pg_basebackup,
 *     pgbouncer started); tpa's deploy as a ratio to it, <= 1.3
 *   - no-op deploy <= 3 s, plan <= 2 s, status <= 1 s, test <= 3 s on the converged 3 nodes
 *   - idle CPU of the converged 3 nodes (their containers' cgroups over 60 s)
 *   - 9 nodes: deploy <= 1.5x the 3-node deploy, no-op deploy <= 1.5x the 3-node one
 * Base and stack images are built before anything is measured. Runs as root.
 *   BENCH_RUNS=n   runs per measurement (default 5)
 *   BENCH_NINE=0   leave out the 9-node part
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { must, tpa, type Run } from './lib/cli.ts';
import { appendResults, type BenchRow } from './lib/results.ts';
import { floorScripts } from './lib/floor.ts';

const run = promisify(execFile);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const IDLE_SECONDS = 60;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');

interface Host {
  name: string;
  role: string;
  address: string;
  platformId: string;
}

async function hostsOf(dir: string): Promise<Host[]> {
  return (JSON.parse(await readFile(join(dir, 'inventory.json'), 'utf8')) as { hosts: Host[] }).hosts;
}

/** phase -> seconds, from the phase-finished events of a --json deploy */
function phaseTimes(stdout: string): string {
  const parts: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as { kind?: string; phase?: string; durationMs?: number };
      if (e.kind === 'phase-finished' && e.phase && e.durationMs !== undefined)
        parts.push(`${e.phase} ${(e.durationMs / 1000).toFixed(1)}`);
    } catch {
      // the last line is the result object, not an event
    }
  }
  return parts.join(', ');
}

async function times(n: number, args: string[], env: NodeJS.ProcessEnv): Promise<Run[]> {
  const out: Run[] = [];
  for (let i = 0; i < n; i++) out.push(await must(args, env));
  return out;
}

/** CPU seconds a container has used (cgroup v1 cpuacct or v2 cpu.stat, through lxc-cgroup). */
async function cpuSeconds(container: string): Promise<number> {
  try {
    const { stdout } = await run('lxc-cgroup', ['-n', container, 'cpuacct.usage']);
    return Number(stdout.trim()) / 1e9;
  } catch {
    const { stdout } = await run('lxc-cgroup', ['-n', container, 'cpu.stat']);
    const usec = /usage_usec (\d+)/.exec(stdout)?.[1];
    return Number(usec ?? 'NaN') / 1e6;
  }
}

/** Each host's CPU over IDLE_SECONDS, as a percentage of one core. */
async function idleCpu(hosts: Host[]): Promise<{ total: number; per: string }> {
  const before = await Promise.all(hosts.map((h) => cpuSeconds(h.platformId)));
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const after = await Promise.all(hosts.map((h) => cpuSeconds(h.platformId)));
  const pct = hosts.map((_, i) => ((after[i]! - before[i]!) / IDLE_SECONDS) * 100);
  return {
    total: pct.reduce((a, b) => a + b, 0),
    per: hosts.map((h, i) => `${h.name} ${pct[i]!.toFixed(1)}%`).join(', '),
  };
}

/** The floor on freshly provisioned containers: seconds from nothing to 2 streaming replicas. */
async function floorOnce(dir: string): Promise<number> {
  const hosts = await hostsOf(dir);
  const primary = hosts.find((h) => h.role === 'primary')!;
  const replicas = hosts.filter((h) => h.role !== 'primary');
  const s = floorScripts(
    primary.address,
    replicas.map((r) => r.address),
  );
  const attach = (h: Host, script: string) =>
    run('lxc-attach', ['-n', h.platformId, '--', 'sh', '-c', script], { maxBuffer: 1 << 24 });
  const t0 = process.hrtime.bigint();
  await Promise.all(hosts.map((h) => attach(h, s.packages)));
  await attach(primary, s.primary);
  await Promise.all(replicas.map((h) => attach(h, s.replica)));
  await Promise.all(hosts.map((h) => attach(h, s.pooler)));
  await attach(primary, s.waitStreaming);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the speed bench runs as root');
  const work = await mkdtemp(join(tmpdir(), 'tpa-bench-speed-'));
  const env = { ...process.env, TPA_KEY_FILE: join(work, 'secret.key'), TPA_CACHE_DIR: join(work, 'cache') };
  const dir3 = join(work, 'speed3');
  const dir9 = join(work, 'speed9');
  const up = new Set<string>();
  const provision = async (dir: string) => {
    const r = await must(['provision', dir], env);
    up.add(dir);
    return r;
  };
  const deprovision = async (dir: string) => {
    await must(['deprovision', dir, '--yes'], env);
    up.delete(dir);
  };
  const rows: BenchRow[] = [];
  const notes: string[] = [`${RUNS} runs per row, the median shown; every run in the note.`];
  try {
    await must(['configure', dir3, '--replicas', '2', '--backup', 'none', '--pooler', 'pgbouncer'], env);
    // base and stack images, and the CLI bundle, outside every measurement
    await provision(dir3);
    await deprovision(dir3);

    // the floor first: the same fresh containers tpa's deploy starts from
    const floor: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await provision(dir3);
      floor.push(await floorOnce(dir3));
      await deprovision(dir3);
    }

    const prov: number[] = [];
    const dep: number[] = [];
    let phases = '';
    for (let i = 0; i < RUNS; i++) {
      const p = await provision(dir3);
      const d = await must(['deploy', dir3, '--json'], env);
      prov.push(p.seconds);
      dep.push(d.seconds);
      phases = phaseTimes(d.stdout);
      if (i < RUNS - 1) await deprovision(dir3);
    }
    const total = prov.map((p, i) => p + dep[i]!);
    rows.push({
      step: 'provision 3 nodes (images cached)',
      seconds: median(prov),
      note: `runs: ${list(prov)}`,
    });
    rows.push({
      step: 'deploy 3 nodes (primary + 2 replicas, repmgr, pgbouncer) from new containers',
      seconds: median(dep),
      note: `runs: ${list(dep)}; phases of the last (s): ${phases}`,
    });
    rows.push({
      step: 'warm demo: provision + deploy, 3 nodes',
      seconds: median(total),
      target: '<= 45 s',
      note: `runs: ${list(total)}`,
    });
    rows.push({
      step: 'floor: the minimum by hand (lxc-attach; packages, primary, pg_basebackup replicas, pgbouncer)',
      seconds: median(floor),
      note: `runs: ${list(floor)}`,
    });
    rows.push({
      step: 'ratio: tpa deploy / floor',
      seconds: median(dep) / median(floor),
      target: '<= 1.3x',
      unit: 'x',
      note: 'medians divided',
    });

    const noop3 = await times(RUNS, ['deploy', dir3], env);
    const plan3 = await times(RUNS, ['plan', dir3], env);
    const status3 = await times(RUNS, ['status', dir3], env);
    const test3 = await times(RUNS, ['test', dir3], env);
    const secs = (rs: Run[]) => rs.map((r) => r.seconds);
    rows.push({
      step: 'no-op deploy, 3 nodes',
      seconds: median(secs(noop3)),
      target: '<= 3 s',
      note: `runs: ${list(secs(noop3))}`,
    });
    rows.push({
      step: 'plan, 3 nodes',
      seconds: median(secs(plan3)),
      target: '<= 2 s',
      note: `runs: ${list(secs(plan3))}`,
    });
    rows.push({
      step: 'status, 3 nodes',
      seconds: median(secs(status3)),
      target: '<= 1 s',
      note: `runs: ${list(secs(status3))}`,
    });
    rows.push({
      step: 'test, 3 nodes',
      seconds: median(secs(test3)),
      target: '<= 3 s',
      note: `runs: ${list(secs(test3))}`,
    });

    const idle = await idleCpu(await hostsOf(dir3));
    rows.push({
      step: `idle CPU of the converged 3 nodes over ${IDLE_SECONDS} s (percent of one core, all containers)`,
      seconds: idle.total,
      unit: '%',
      note: idle.per,
    });
    await deprovision(dir3);

    await appendResults(
      'speed: warm demo, floor, no-op deploy, plan, status, test, idle CPU (3 nodes)',
      rows,
      [
        ...notes,
        'Times are wall-clock of whole `bin/tpa` processes (CLI start-up included).',
        'The floor runs through lxc-attach (no SSH) on containers provisioned from the same stack image tpa deploys on.',
      ],
    );
    for (const r of rows) console.log(`${r.step}: ${r.seconds.toFixed(2)} ${r.target ?? ''}`);

    if (process.env.BENCH_NINE !== '0') {
      const nine: BenchRow[] = [];
      await must(['configure', dir9, '--replicas', '8', '--backup', 'none', '--pooler', 'pgbouncer'], env);
      const dep9: number[] = [];
      const failed: string[] = [];
      for (let i = 0; i < RUNS; i++) {
        await provision(dir9);
        const d = await tpa(['deploy', dir9], env);
        dep9.push(d.seconds);
        if (d.code !== 0) failed.push(`run ${i + 1} exited ${d.code} after ${d.seconds.toFixed(1)} s`);
        if (i < RUNS - 1) await deprovision(dir9);
      }
      const noop9: number[] = [];
      for (let i = 0; i < RUNS; i++) noop9.push((await tpa(['deploy', dir9], env)).seconds);
      await deprovision(dir9);
      nine.push({
        step: 'deploy 9 nodes (primary + 8 replicas) from new containers',
        seconds: median(dep9),
        note: `runs: ${list(dep9)}${failed.length ? `; FAILED: ${failed.join('; ')}` : ''}`,
      });
      nine.push({
        step: 'ratio: deploy 9 nodes / deploy 3 nodes',
        seconds: median(dep9) / median(dep),
        target: '<= 1.5x',
        unit: 'x',
        note: 'medians divided',
      });
      nine.push({ step: 'no-op deploy, 9 nodes', seconds: median(noop9), note: `runs: ${list(noop9)}` });
      nine.push({
        step: 'ratio: no-op deploy 9 nodes / 3 nodes',
        seconds: median(noop9) / median(secs(noop3)),
        target: '<= 1.5x',
        unit: 'x',
        note: 'medians divided',
      });
      await appendResults('speed: 9 nodes against 3', nine, [
        `${RUNS} runs per row, the median shown; a deploy that failed is counted with its time and named.`,
      ]);
      for (const r of nine) console.log(`${r.step}: ${r.seconds.toFixed(2)} ${r.target ?? ''}`);
    }
  } finally {
    for (const d of up) await tpa(['deprovision', d, '--yes'], env);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
