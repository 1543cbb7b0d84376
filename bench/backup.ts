/**
 * Backup and restore timings through the real CLI, for a database of a stated size: a cluster
 * with one primary and a barman server, pgbench initialised at scale BENCH_PGBENCH_SCALE
 * (default 50, about 750 MB), then
 *   - tpa backup (pg_basebackup to barman, waiting for the WAL it needs)
 *   - tpa restore --latest into a new cluster (provision, barman recover over SSH, promote,
 *     deploy of the new cluster including its own first backup)
 *   - tpa restore --latest --in-place --yes (data directory kept aside, barman recover,
 *     promote, deploy, a new full backup on the new timeline)
 *   - tpa test --restore-drill (the latest backup restored into a temporary cluster, marker
 *     row and checksums verified, the temporary cluster removed)
 * Runs as root; everything is removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { must, tpa } from './lib/cli.ts';
import { appendResults, type BenchRow } from './lib/results.ts';

const SCALE = Number(process.env.BENCH_PGBENCH_SCALE ?? 50);

/** the pretty-printed result after the JSON-lines events */
function result<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines.slice(Math.max(0, lines.lastIndexOf('{'))).join('\n')) as T;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the backup bench runs as root');
  const work = await mkdtemp(join(tmpdir(), 'tpa-bench-backup-'));
  const env = { ...process.env, TPA_KEY_FILE: join(work, 'secret.key'), TPA_CACHE_DIR: join(work, 'cache') };
  const dir = join(work, 'benchbackup');
  const rows: BenchRow[] = [];
  let provisioned = false;
  try {
    await must(['configure', dir, '--replicas', '0', '--backup', 'shared', '--cluster-name', 'bench'], env);
    await must(['provision', dir], env);
    provisioned = true;
    await must(['deploy', dir], env);
    const init = await must(
      ['ssh', dir, 'bench-1', '--', `cd / && runuser -u postgres -- pgbench -i -q -s ${SCALE} postgres`],
      env,
    );
    const size = await must(
      [
        'ssh',
        dir,
        'bench-1',
        '--',
        'cd / && runuser -u postgres -- psql -X -A -t -c "SELECT pg_size_pretty(pg_database_size(\'postgres\'))"',
      ],
      env,
    );
    const dbSize = size.stdout.trim();
    rows.push({ step: `pgbench -i -s ${SCALE} (database postgres: ${dbSize})`, seconds: init.seconds });
    const b = await must(['backup', dir, '--json'], env);
    const taken = result<{ backups: { backup: { sizeBytes?: number } }[] }>(b.stdout).backups[0]?.backup;
    rows.push({
      step: `tpa backup (database ${dbSize})`,
      seconds: b.seconds,
      note: `backup size ${((taken?.sizeBytes ?? 0) / 2 ** 20).toFixed(0)} MiB, CLI start-up included`,
    });
    const r = await must(['restore', dir, '--cluster', 'bench', '--latest', '--into', 'copy', '--json'], env);
    const out = result<{ timings: Record<string, number> }>(r.stdout);
    rows.push({
      step: `tpa restore --latest into a new cluster (database ${dbSize})`,
      seconds: r.seconds,
      note: `barman recover + replay + promote ${out.timings.recover?.toFixed(1)} s; deploy of the new cluster (incl. its first backup) ${out.timings.deploy?.toFixed(1)} s; the rest is provision and preparation`,
    });
    const ip = await must(
      ['restore', dir, '--cluster', 'bench', '--latest', '--in-place', '--yes', '--json'],
      env,
    );
    const inPlace = result<{ timings: Record<string, number> }>(ip.stdout);
    rows.push({
      step: `tpa restore --latest --in-place (database ${dbSize})`,
      seconds: ip.seconds,
      note: `barman recover + replay + promote ${inPlace.timings.recover?.toFixed(1)} s; deploy ${inPlace.timings.deploy?.toFixed(1)} s; new full backup ${inPlace.timings.backup?.toFixed(1)} s; the rest is checking the target and stopping the cluster`,
    });
    const drill = await must(['test', dir, '--restore-drill', '--cluster', 'bench', '--json'], env);
    const row = (JSON.parse(drill.stdout) as { results: { check: string; detail: string }[] }).results.find(
      (x) => x.check === 'restore-drill',
    );
    rows.push({
      step: `tpa test --restore-drill (database ${dbSize})`,
      seconds: drill.seconds,
      note: `the normal checks included; ${row?.detail ?? ''}`,
    });
  } finally {
    if (provisioned) await tpa(['deprovision', dir, '--yes'], env);
    await rm(work, { recursive: true, force: true });
  }
  await appendResults(`backup and restore: pgbench scale ${SCALE}`, rows, [
    'Times are wall-clock of whole `bin/tpa` processes. One primary, one barman server, lxc on this machine.',
  ]);
  for (const r of rows) console.log(`${r.step}: ${r.seconds.toFixed(1)} s ${r.note ?? ''}`);
}

await main();
