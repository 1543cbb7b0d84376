/**
 * Monthly cost estimate of a group: instance + data volume per machine, summed per cluster
 * and for the group. Pure: the price table is passed in (data/prices.json for aws); lxc and
 * bare cost nothing unless config.yml's `prices` says what their machines cost.
 * Amounts are computed in whole cents so that the parts add up to the totals shown.
 */
import { z } from 'zod';
import { hostSpecs, type HostSpec } from './hosts.ts';
import type { ClusterGroupConfig } from './schema.ts';

export const PriceTableSchema = z.object({
  source: z.string(),
  region: z.string(),
  /** when the prices were taken (YYYY-MM-DD) */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  currency: z.literal('USD'),
  hours_per_month: z.number().positive(),
  instances_per_hour: z.record(z.string(), z.number().min(0)),
  volume: z.object({ type: z.string(), per_gb_month: z.number().min(0) }),
});
export type PriceTable = z.infer<typeof PriceTableSchema>;

export interface HostCost {
  name: string;
  kind: HostSpec['kind'];
  cluster?: string;
  role: HostSpec['role'];
  instanceType: string;
  volumeGb: number;
  /** USD per month; null when no price is known for the instance type */
  instanceMonthly: number | null;
  volumeMonthly: number;
  monthly: number | null;
}

export interface CostEstimate {
  group: string;
  platform: ClusterGroupConfig['platform'];
  currency: 'USD';
  /** where the prices come from */
  basis:
    | { kind: 'price-table'; source: string; region: string; date: string }
    | { kind: 'config' }
    | { kind: 'free' };
  hosts: HostCost[];
  clusters: { name: string; monthly: number }[];
  /** machines outside any cluster (barman) */
  services: { monthly: number };
  total: number;
  /** true when some machine has no known price (the total is then a lower bound) */
  incomplete: boolean;
  notes: string[];
}

const cents = (usd: number) => Math.round(usd * 100);
const usd = (c: number) => c / 100;

export function estimateCost(config: ClusterGroupConfig, table: PriceTable): CostEstimate {
  const notes: string[] = [];
  const hosts = hostSpecs(config);
  let instanceCents: (type: string) => number | null;
  let volumeCentsPerGb: number;
  let basis: CostEstimate['basis'];

  if (config.platform === 'aws') {
    instanceCents = (type) => {
      const hourly = table.instances_per_hour[type];
      return hourly === undefined ? null : cents(hourly * table.hours_per_month);
    };
    volumeCentsPerGb = table.volume.per_gb_month * 100;
    basis = { kind: 'price-table', source: table.source, region: table.region, date: table.date };
    const region = config.aws?.region ?? 'eu-west-1';
    notes.push(
      `AWS on-demand list prices of ${table.region} taken ${table.date}, ${table.hours_per_month} hours a month; ${table.volume.type} volumes`,
    );
    if (region !== table.region)
      notes.push(`the group runs in ${region}; prices there differ somewhat from ${table.region}`);
    if (config.prices !== undefined)
      notes.push('config prices apply to lxc and bare only; aws uses the price table');
  } else if (config.prices !== undefined) {
    const prices = config.prices;
    instanceCents = (type) => {
      const monthly = prices.instances[type];
      return monthly === undefined ? null : cents(monthly);
    };
    volumeCentsPerGb = prices.volume_gb_month * 100;
    basis = { kind: 'config' };
    notes.push(`prices from config.yml (platform ${config.platform})`);
  } else {
    instanceCents = () => 0;
    volumeCentsPerGb = 0;
    basis = { kind: 'free' };
    notes.push(
      `platform ${config.platform} has no price table; set prices in config.yml to include machine costs`,
    );
  }

  let incomplete = false;
  const costs = hosts.map((h) => {
    const inst = instanceCents(h.instanceType);
    const vol = Math.round(volumeCentsPerGb * h.volumeGb);
    if (inst === null) incomplete = true;
    return { h, inst, vol, total: (inst ?? 0) + vol };
  });
  const missing = [...new Set(costs.filter((c) => c.inst === null).map((c) => c.h.instanceType))];
  if (missing.length > 0) notes.push(`no price for instance type ${missing.join(', ')}: counted as 0`);

  const sumCents = (pred: (h: HostSpec) => boolean) =>
    costs.filter((c) => pred(c.h)).reduce((s, c) => s + c.total, 0);
  return {
    group: config.name,
    platform: config.platform,
    currency: 'USD',
    basis,
    hosts: costs.map(({ h, inst, vol }) => ({
      name: h.name,
      kind: h.kind,
      ...(h.cluster !== undefined ? { cluster: h.cluster } : {}),
      role: h.role,
      instanceType: h.instanceType,
      volumeGb: h.volumeGb,
      instanceMonthly: inst === null ? null : usd(inst),
      volumeMonthly: usd(vol),
      monthly: inst === null ? null : usd(inst + vol),
    })),
    clusters: config.clusters.map((c) => ({
      name: c.name,
      monthly: usd(sumCents((h) => h.cluster === c.name)),
    })),
    services: { monthly: usd(sumCents((h) => h.cluster === undefined)) },
    total: usd(sumCents(() => true)),
    incomplete,
    notes,
  };
}
