/**
 * DIR/inventory.json: the machines provision made (or adopted) and how to reach them. Written
 * and committed by provision; read by every command that talks to the hosts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { OperationError, UsageError } from '../core/errors.ts';
import { writeClusterFile } from './index.ts';
import { PLATFORMS } from '../model/schema.ts';
import type { Inventory, InventoryHost } from '../platforms/platform.ts';

export const INVENTORY_FILE = 'inventory.json';
export const KNOWN_HOSTS_FILE = 'known_hosts';

const InventoryHostSchema = z.object({
  name: z.string(),
  kind: z.enum(['postgres', 'barman']),
  cluster: z.string().optional(),
  role: z.enum(['primary', 'replica', 'barman']),
  upstream: z.string().optional(),
  address: z.string(),
  sshUser: z.string(),
  sshPort: z.number().int(),
  sshKey: z.string().optional(),
  instanceType: z.string(),
  cpus: z.number(),
  memoryMb: z.number(),
  volumeGb: z.number(),
  platformId: z.string().optional(),
});

const InventorySchema = z.object({
  group: z.string(),
  platform: z.enum(PLATFORMS),
  network: z.record(z.string(), z.string()).optional(),
  hosts: z.array(InventoryHostSchema),
});

/** The inventory text as provision writes it: stable key order, so unchanged means byte-identical. */
export function renderInventory(inv: Inventory): string {
  // through the schema: its field order, whoever built the object (provision, or an operation
  // that read it back and changed a role), so the same inventory is the same bytes
  return JSON.stringify(InventorySchema.parse(inv), null, 2) + '\n';
}

/** Reads DIR/inventory.json; a missing one is bad input (provision first), a broken one a failure. */
export async function readInventory(dir: string): Promise<Inventory> {
  const path = join(dir, INVENTORY_FILE);
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new UsageError(
      `${dir} has no ${INVENTORY_FILE}: its machines were not provisioned`,
      `run: tpa provision ${dir}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new OperationError(`${path} is not valid JSON: ${(e as Error).message}`, {
      hint: `restore it from git (git -C ${dir} checkout -- ${INVENTORY_FILE}) or run tpa provision ${dir} again`,
    });
  }
  const r = InventorySchema.safeParse(data);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new OperationError(`${path}: ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}`, {
      hint: `run tpa provision ${dir} again to rewrite it`,
    });
  }
  return r.data;
}

/** Reads the inventory when there is one. */
export async function maybeReadInventory(dir: string): Promise<Inventory | undefined> {
  const exists = await readFile(join(dir, INVENTORY_FILE), 'utf8').then(
    () => true,
    () => false,
  );
  return exists ? readInventory(dir) : undefined;
}

export async function writeInventory(dir: string, inv: Inventory): Promise<string> {
  await writeClusterFile(dir, INVENTORY_FILE, renderInventory(inv));
  return INVENTORY_FILE;
}

/** One host of the inventory by name; a UsageError listing the names when there is none. */
export function inventoryHost(inv: Inventory, name: string): InventoryHost {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h) {
    throw new UsageError(
      `no host called ${name} in group ${inv.group}`,
      `hosts: ${inv.hosts.map((x) => x.name).join(', ')}`,
    );
  }
  return h;
}
