/**
 * Deploy timings through the real CLI (bin/tpa, start-up included), on the demo's shape:
 * M1 on lxc, a primary and two replicas, repmgr, pgbouncer, no backups.
 *   - provision + deploy from the cached base image (target < 60 s)
 *   - no-op re-deploy of the converged cluster (target < 3 s)
 *   - tpa plan on the converged cluster (target < 2 s)
 * Per-phase times come from the deploy's own JSON events. Runs as root.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { must, tpa } from './lib/cli.ts';
import { appendResults, type BenchRow } from './lib/results.ts';

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

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the deploy bench runs as root');
  const work = await mkdtemp(join(tmpdir(), 'tpa-bench-deploy-'));
  const env = { ...process.env, TPA_KEY_FILE: join(work, 'secret.key'), TPA_CACHE_DIR: join(work, 'cache') };
  const dir = join(work, 'benchdeploy');
  const rows: BenchRow[] = [];
  let provisioned = false;
  try {
    await must(['configure', dir, '--replicas', '2', '--backup', 'none', '--pooler', 'pgbouncer'], env);
    // warm the base image (and the CLI bundle) outside the measurement
    await must(['provision', dir], env);
    provisioned = true;
    await must(['deprovision', dir, '--yes'], env);
    provisioned = false;

    const prov = await must(['provision', dir], env);
    provisioned = true;
    const dep = await must(['deploy', dir, '--json'], env);
    rows.push({
      step: 'provision 3 nodes (base image cached)',
      seconds: prov.seconds,
    });
    rows.push({
      step: 'deploy M1 (primary + 2 replicas, repmgr, pgbouncer) from bare containers',
      seconds: dep.seconds,
      note: `phases (s): ${phaseTimes(dep.stdout)}`,
    });
    rows.push({
      step: 'provision + deploy, total',
      seconds: prov.seconds + dep.seconds,
      target: '< 60 s',
    });
    const again = await must(['deploy', dir, '--json'], env);
    rows.push({
      step: 'no-op re-deploy of the converged cluster',
      seconds: again.seconds,
      target: '< 3 s',
      note: `phases (s): ${phaseTimes(again.stdout)}`,
    });
    const plan = await must(['plan', dir], env);
    rows.push({ step: 'tpa plan on the converged cluster', seconds: plan.seconds, target: '< 2 s' });
    const test = await tpa(['test', dir], env);
    rows.push({
      step: 'tpa test',
      seconds: test.seconds,
      note: test.code === 0 ? 'all checks pass' : 'FAILED',
    });
  } finally {
    if (provisioned) await tpa(['deprovision', dir, '--yes'], env);
    await rm(work, { recursive: true, force: true });
  }
  await appendResults('deploy: the demo cluster through the CLI', rows, [
    'Times are wall-clock of whole `bin/tpa` processes, CLI start-up included.',
  ]);
  for (const r of rows) console.log(`${r.step}: ${r.seconds.toFixed(1)} s ${r.target ?? ''}`);
}

await main();
