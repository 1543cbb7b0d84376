/**
 * lxc platform timings: building the base image, provisioning 4 nodes from the cached base
 * (target < 15 s), provisioning again (nothing to do), deprovisioning. Runs as root.
 *   BENCH_COLD=1  also empty lxc's debian template cache first, so the base build includes
 *                 debootstrap downloading Debian (the true first run on a machine)
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TpaEvent } from '../src/core/events.ts';
import { configure } from '../src/commands/configure/index.ts';
import { deprovision } from '../src/commands/deprovision/index.ts';
import { provision } from '../src/commands/provision/index.ts';
import { baseRecipe, baseReady, ensureBaseImage, baseImageOf } from '../src/platforms/lxc/base-image.ts';
import { HostShell } from '../src/platforms/lxc/host.ts';
import { withHostLock } from '../src/platforms/lxc/lock.ts';
import { readHostMirrors } from '../src/platforms/lxc/mirror.ts';
import { appendResults, timed, type BenchRow } from './lib/results.ts';

const TEMPLATE_CACHE = '/var/cache/lxc/debian';

function progress(e: TpaEvent): void {
  if (e.kind === 'info' || e.kind === 'done' || e.kind === 'warning')
    console.error(`  ${e.kind}: ${'message' in e ? e.message : e.summary}`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the lxc bench runs as root');
  const work = await mkdtemp(join(tmpdir(), 'tpa-bench-'));
  process.env.TPA_KEY_FILE = join(work, 'secret.key');
  process.env.TPA_CACHE_DIR = join(work, 'cache');
  const dir = join(work, `bench-${process.pid}`);
  const sh = new HostShell();
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let provisioned = false;
  try {
    const recipe = baseRecipe(await readHostMirrors());
    const cachedBase = baseImageOf(recipe).name;
    const hadBase = await baseReady(cachedBase);

    await configure({
      dir,
      clusterName: 'main',
      architecture: 'M1',
      platform: 'lxc',
      replicas: 2,
      failoverManager: 'repmgr',
      pooler: 'pgbouncer',
      durability: 'async',
      backup: 'shared',
      clientCidrs: [],
      sshKeyFiles: [],
      addresses: [],
    });

    console.error(`provision 4 nodes (base ${cachedBase} ${hadBase ? 'cached' : 'absent: built first'})`);
    const first = await timed(() => provision({ dir, events: progress }));
    provisioned = true;
    rows.push({
      step: hadBase
        ? 'provision 4 nodes from the cached base image'
        : 'provision 4 nodes, base image built first',
      seconds: first.seconds,
      ...(hadBase ? { target: '< 15 s' } : {}),
      note: `${first.value.changes.length} changes; returns when sshd answers on every node`,
    });
    if (!hadBase) {
      const again = await timed(async () => {
        await deprovision({ dir, events: progress, yes: true });
        provisioned = false;
        const r = await provision({ dir, events: progress });
        provisioned = true;
        return r;
      });
      rows.push({
        step: 'deprovision + provision 4 nodes from the cached base image',
        seconds: again.seconds,
        target: '< 15 s',
      });
    }

    const noop = await timed(() => provision({ dir, events: progress }));
    rows.push({
      step: 'provision again (nothing to do)',
      seconds: noop.seconds,
      note:
        noop.value.changes.length === 0 ? 'no changes' : `${noop.value.changes.length} changes (unexpected)`,
    });

    // the base build, measured into a fresh name so the cached base stays as it is
    const cold = process.env.BENCH_COLD === '1';
    if (cold) await rm(TEMPLATE_CACHE, { recursive: true, force: true });
    const templateCached = await access(TEMPLATE_CACHE).then(
      () => true,
      () => false,
    );
    const benchBase = `tpa-benchbase-${process.pid}`;
    console.error(
      `build a base image into ${benchBase} (template cache ${templateCached ? 'warm' : 'empty'})`,
    );
    try {
      const built = await timed(() =>
        withHostLock('base', () => ensureBaseImage(sh, recipe, { name: benchBase, events: progress })),
      );
      rows.push({
        step: templateCached
          ? 'build the base image (lxc template cache warm)'
          : 'build the base image from nothing (debootstrap)',
        seconds: built.seconds,
        note: 'debian template + packages through apt-cacher-ng (its cache warm)',
      });
    } finally {
      await sh.test(`lxc-destroy -n ${benchBase}`);
    }

    const down = await timed(() => deprovision({ dir, events: progress, yes: true }));
    provisioned = false;
    rows.push({ step: 'deprovision 4 nodes', seconds: down.seconds, note: 'containers, bridge, cgroups' });
    notes.push(
      'Times are in-process (operations called directly); the CLI adds about 2-3 s of start-up (tsx).',
      `Base image: ${hadBase ? 'was cached before the run' : 'was absent and built by the first provision'}; ` +
        'the base build row is a fresh build into a new name, the cached base left alone.',
    );
    await appendResults('lxc platform: base image, provision, deprovision (4 nodes)', rows, notes);
    for (const r of rows)
      console.log(`${r.step.padEnd(60)} ${r.seconds.toFixed(1).padStart(6)} s ${r.target ?? ''}`);
  } finally {
    if (provisioned) await deprovision({ dir, events: () => {}, yes: true }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
