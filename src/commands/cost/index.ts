/** `tpa cost`: the monthly estimate of a cluster directory's machines. */
import { readFile } from 'node:fs/promises';
import { OperationError } from '../../core/errors.ts';
import { loadClusterConfig } from '../../clusterdir/index.ts';
import { estimateCost, PriceTableSchema, type CostEstimate, type PriceTable } from '../../model/pricing.ts';
import type { ConfigIssue } from '../../core/errors.ts';
import { PRICES_FILE } from '../../core/files.ts';

export async function loadPriceTable(file: URL | string = PRICES_FILE): Promise<PriceTable> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new OperationError(`cannot read the price table ${String(file)}: ${(e as Error).message}`, {
      step: 'prices',
    });
  }
  const r = PriceTableSchema.safeParse(data);
  if (!r.success) {
    throw new OperationError(
      `the price table ${String(file)} is malformed: ${r.error.issues[0]?.message ?? ''}`,
      {
        step: 'prices',
      },
    );
  }
  return r.data;
}

export async function estimateClusterCost(dir: string): Promise<CostEstimate & { warnings: ConfigIssue[] }> {
  const { config, warnings } = await loadClusterConfig(dir);
  return { ...estimateCost(config, await loadPriceTable()), warnings };
}
