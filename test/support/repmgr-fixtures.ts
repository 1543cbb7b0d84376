/**
 * Test fixtures shared by the repmgr and pgbouncer tests: a three-node cluster with a
 * cascaded replica, its inventory, and facts as the hosts would report them.
 */
import { spawnSync } from 'node:child_process';
import type { ClusterGroupInput } from '../../src/model/schema.ts';
import type { DeployContext } from '../../src/components/component.ts';
import type { HostFacts } from '../../src/plan/types.ts';
import type { Inventory } from '../../src/platforms/platform.ts';
import { testFacts, threeNodeConfig, threeNodeInventory } from './fixtures.ts';

export function sampleConfig(over: Partial<ClusterGroupInput> = {}) {
  return threeNodeConfig(over);
}

export function sampleInventory(): Inventory {
  return threeNodeInventory();
}

export function emptyFacts(host: string, probes: Record<string, string> = {}): HostFacts {
  return testFacts(host, { probes });
}

/** facts of a node whose server answers: primary on `timeline`, or a standby */
export function serverFacts(
  host: string,
  role: 'primary' | 'standby',
  timeline = 1,
  sysid = '7300000000000000001',
) {
  const wal = `${timeline.toString(16).toUpperCase().padStart(8, '0')}0000000000000003`;
  const facts = emptyFacts(host);
  facts.postgres = {
    running: true,
    inRecovery: role === 'standby',
    version: '15.20',
    settings: {},
    roles: {},
    databases: [],
    systemIdentifier: sysid,
    ...(role === 'primary' ? { walFile: wal } : {}),
  };
  return facts;
}

export function sampleContext(facts: Record<string, HostFacts> = {}): DeployContext {
  return {
    config: sampleConfig(),
    inventory: sampleInventory(),
    secrets: {
      postgres_password: 'pg-secret-1',
      replication_password: 'repl-secret-2',
      repmgr_password: 'repmgr-secret-3',
      pgbouncer_password: 'pgb-secret-4',
      pgbouncer_check_password: 'pgb-check-secret-5',
    },
    facts,
  };
}

export const hasCommand = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

/** `sh -n` and (when installed) shellcheck on a script; returns the problems found */
export function shellProblems(script: string): string[] {
  const problems: string[] = [];
  const syntax = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  if (syntax.status !== 0) problems.push(`sh -n: ${syntax.stderr}`);
  if (hasCommand('shellcheck')) {
    const sc = spawnSync('shellcheck', ['-s', 'sh', '-f', 'gcc', '-'], { input: script, encoding: 'utf8' });
    if (sc.status !== 0) problems.push(`shellcheck: ${sc.stdout}${sc.stderr}`);
  }
  return problems;
}
