/**
 * `tpa demo [DIR]`: the whole life of a cluster in one command, on local containers:
 * configure (M1 on lxc: a primary, two replicas, pgbouncer, no backups), provision, deploy,
 * test, and the hand-over sheet. Every stage is idempotent, so running it again on the same
 * directory continues (or re-checks) instead of starting over.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { CONFIG_FILE } from '../../clusterdir/index.ts';
import { configure, defaultConfigureRequest } from '../configure/index.ts';
import { provision } from '../provision/index.ts';
import { deploy } from '../deploy/index.ts';
import { testCluster, type TestReport } from '../test/index.ts';
import { clusterInfo, type ClusterInfo } from '../info/index.ts';

export const DEFAULT_DEMO_DIR = 'tpa-demo';

export interface DemoRequest {
  dir: string;
  events: EventSink;
}

export interface DemoOutcome {
  dir: string;
  /** false when DIR held a demo already and this run continued it */
  configured: boolean;
  provisionChanges: number;
  deployChanges: number;
  test: TestReport;
  info: ClusterInfo;
  durationMs: number;
}

export const DEMO_STEPS = ['configure', 'provision', 'deploy', 'test', 'info'] as const;

export async function demo(req: DemoRequest): Promise<DemoOutcome> {
  const started = Date.now();
  const dir = resolve(req.dir);
  const ev = req.events;
  const step = (i: number, what: string) =>
    ev({ kind: 'info', message: `step ${i + 1}/${DEMO_STEPS.length}: ${DEMO_STEPS[i]} — ${what}` });

  const hasConfig = existsSync(join(dir, CONFIG_FILE));
  if (!hasConfig && existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new UsageError(
      `${req.dir} exists, is not empty and holds no ${CONFIG_FILE}`,
      'give tpa demo a new directory (or the one of an earlier demo)',
    );
  }
  if (hasConfig) {
    step(0, `${req.dir} holds a cluster already: continuing it`);
  } else {
    step(0, 'a primary, two replicas, repmgr, pgbouncer, no backups, on local lxc containers');
    const r = await configure({ ...defaultConfigureRequest(dir), backup: 'none' });
    ev({ kind: 'info', message: `wrote ${join(req.dir, CONFIG_FILE)}: hosts ${r.hosts.join(', ')}` });
  }

  step(1, 'containers on a bridge of their own (the first run builds a base image)');
  const p = await provision({ dir, events: ev });

  step(2, 'PostgreSQL, streaming replicas, repmgrd, pgbouncer, TLS');
  const d = await deploy({ dir, events: ev });

  step(3, 'replication, failover manager, pooler, TLS and passwords, checked on every node');
  const test = await testCluster(dir, { events: ev });

  step(4, 'the hand-over sheet');
  const info = await clusterInfo(dir, { dirLabel: req.dir });
  return {
    dir,
    configured: !hasConfig,
    provisionChanges: p.changes.length,
    deployChanges: d.changes,
    test,
    info,
    durationMs: Date.now() - started,
  };
}
