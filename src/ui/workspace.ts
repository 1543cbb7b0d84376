/**
 * The workspace: every cluster directory under it (a directory holding config.yml), what its
 * config.yml describes and costs (commands/cost), and, when its machines were provisioned, how
 * it is now (commands/status, commands/info) within a time limit, so that a page never hangs
 * on a host that does not answer.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { CONFIG_FILE, readConfigText } from '../clusterdir/index.ts';
import { INVENTORY_FILE } from '../clusterdir/inventory.ts';
import { describeHolder, lockHolder } from '../clusterdir/lock.ts';
import { UsageError } from '../core/errors.ts';
import { parseConfig } from '../model/parse.ts';
import { estimateCost } from '../model/pricing.ts';
import { hostSpecs } from '../model/hosts.ts';
import { loadPriceTable } from '../commands/cost/index.ts';
import { clusterStatus } from '../commands/status/index.ts';
import { clusterInfo } from '../commands/info/index.ts';
import type { ClusterInfo, GroupSummary, GroupView, Health, NodeRow } from './types.ts';

const GROUP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

/** The directory of group `id` under the workspace; a bad or unknown id is bad input. */
export function groupDir(workspace: string, id: string): string {
  const dir = resolve(workspace, id);
  if (
    !GROUP_ID.test(id) ||
    !dir.startsWith(resolve(workspace) + sep) ||
    !existsSync(join(dir, CONFIG_FILE))
  ) {
    throw new UsageError(`no cluster directory ${id} in the workspace`);
  }
  return dir;
}

export async function listGroupIds(workspace: string): Promise<string[]> {
  const entries = await readdir(workspace, { withFileTypes: true }).catch(() => []);
  return entries
    .filter(
      (e) => e.isDirectory() && GROUP_ID.test(e.name) && existsSync(join(workspace, e.name, CONFIG_FILE)),
    )
    .map((e) => e.name)
    .sort();
}

async function describe(workspace: string, id: string) {
  const dir = groupDir(workspace, id);
  const { text } = await readConfigText(dir);
  const parsed = parseConfig(text, CONFIG_FILE);
  const holder = lockHolder(dir);
  const base = {
    id,
    provisioned: existsSync(join(dir, INVENTORY_FILE)),
    ...(holder ? { busy: describeHolder(holder) } : {}),
  };
  return { dir, parsed, base };
}

export async function groupView(workspace: string, id: string): Promise<GroupView> {
  const { parsed, base } = await describe(workspace, id);
  const config = parsed.config;
  if (parsed.errors.length > 0 || config === undefined) {
    return {
      summary: { ...base, clusters: [], nodeCount: 0, configErrors: parsed.errors },
      nodes: [],
      costNotes: [],
    };
  }
  const cost = estimateCost(config, await loadPriceTable());
  const specs = new Map(hostSpecs(config).map((h) => [h.name, h]));
  const nodes: NodeRow[] = cost.hosts.map((h) => ({
    ...(h.cluster !== undefined ? { cluster: h.cluster } : {}),
    name: h.name,
    role: h.role,
    ...(specs.get(h.name)?.upstream !== undefined ? { upstream: specs.get(h.name)!.upstream! } : {}),
    instanceType: h.instanceType,
    volumeGb: h.volumeGb,
    monthly: h.monthly,
  }));
  const summary: GroupSummary = {
    ...base,
    name: config.name,
    platform: config.platform,
    clusters: config.clusters.map((c) => ({ name: c.name, nodes: c.nodes.length })),
    nodeCount: cost.hosts.length,
    cost: { total: cost.total, currency: cost.currency, incomplete: cost.incomplete, basis: cost.basis.kind },
  };
  return { summary, nodes, costNotes: cost.notes, cost };
}

export async function workspaceGroups(workspace: string): Promise<GroupSummary[]> {
  const ids = await listGroupIds(workspace);
  return Promise.all(ids.map(async (id) => (await groupView(workspace, id)).summary));
}

/** `work` within `ms`, else a rejection saying so (the work itself is left to finish) */
export function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function groupHealth(workspace: string, id: string, timeoutMs: number): Promise<Health> {
  const dir = groupDir(workspace, id);
  if (!existsSync(join(dir, INVENTORY_FILE))) {
    return { state: 'not-provisioned', detail: 'not provisioned: its machines do not exist yet' };
  }
  try {
    const status = await within(timeoutMs, 'the group', clusterStatus(dir));
    const down = status.nodes.filter((n) => n.state !== 'running');
    const noPrimary = Object.entries(status.primaries).filter(([, p]) => p === null);
    const problems = [
      ...down.map((n) => `${n.node} ${n.state}`),
      ...noPrimary.map(([c]) => `cluster ${c} has no primary`),
    ];
    return problems.length === 0
      ? { state: 'healthy', detail: `${status.nodes.length} nodes running`, status }
      : { state: 'degraded', detail: problems.join('; '), status };
  } catch (e) {
    return { state: 'unreachable', detail: `unreachable: ${message(e)}` };
  }
}

/** The hand-over sheet, without secrets; null when the group was not provisioned. */
export async function groupInfo(
  workspace: string,
  id: string,
  timeoutMs: number,
): Promise<ClusterInfo | null> {
  const dir = groupDir(workspace, id);
  if (!existsSync(join(dir, INVENTORY_FILE))) return null;
  return within(timeoutMs, 'the group', clusterInfo(dir, { showSecrets: false, dirLabel: id }));
}
