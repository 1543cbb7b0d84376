/**
 * What the host remembers about each group it runs (which directory owns which prefix, subnet
 * and base), in STATE_DIR/groups/<prefix>.json. The cluster directory's inventory.json is the
 * primary record; this one lets the host's owner see what is there without it.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_DIR } from './names.ts';

export interface GroupRecord {
  prefix: string;
  group: string;
  dir: string;
  bridge: string;
  subnet: string;
  base: string;
  nodes: string[];
  updatedAt: string;
}

const GROUPS_DIR = join(STATE_DIR, 'groups');

export async function writeGroupRecord(r: GroupRecord): Promise<void> {
  await mkdir(GROUPS_DIR, { recursive: true });
  await writeFile(join(GROUPS_DIR, `${r.prefix}.json`), JSON.stringify(r, null, 2) + '\n');
}

export async function readGroupRecord(prefix: string): Promise<GroupRecord | undefined> {
  const text = await readFile(join(GROUPS_DIR, `${prefix}.json`), 'utf8').catch(() => undefined);
  return text ? (JSON.parse(text) as GroupRecord) : undefined;
}

export async function listGroupRecords(): Promise<GroupRecord[]> {
  const files = await readdir(GROUPS_DIR).catch(() => [] as string[]);
  const out: GroupRecord[] = [];
  for (const f of files.filter((x) => x.endsWith('.json'))) {
    const r = await readGroupRecord(f.slice(0, -5));
    if (r) out.push(r);
  }
  return out;
}

export async function removeGroupRecord(prefix: string): Promise<boolean> {
  const path = join(GROUPS_DIR, `${prefix}.json`);
  const had = (await readFile(path, 'utf8').catch(() => undefined)) !== undefined;
  await rm(path, { force: true });
  return had;
}
