/**
 * `tpa secrets`: which secrets a cluster directory holds, and one of them in plain for the
 * person (or script) entitled to it. Listing needs no key; reading one does.
 */
import { stat } from 'node:fs/promises';
import { UsageError } from '../../core/errors.ts';
import { getSecret, listSecrets, SECRET_DESCRIPTIONS } from '../../secrets/vault.ts';
import { keyFilePath } from '../../secrets/key.ts';

export interface SecretListing {
  dir: string;
  /** where the key is looked up: `TPA_SECRET_KEY` or the key file's path */
  keySource: string;
  secrets: { name: string; description?: string }[];
}

async function requireClusterDir(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) {
    throw new UsageError(`${dir} is not a directory`, 'pass a cluster directory made by `tpa configure`');
  }
}

export async function listClusterSecrets(dir: string): Promise<SecretListing> {
  await requireClusterDir(dir);
  const names = await listSecrets(dir);
  return {
    dir,
    keySource: process.env.TPA_SECRET_KEY ? 'TPA_SECRET_KEY' : keyFilePath(),
    secrets: names.map((name) => {
      const description = SECRET_DESCRIPTIONS[name];
      return description ? { name, description } : { name };
    }),
  };
}

export async function readClusterSecret(dir: string, name: string): Promise<string> {
  await requireClusterDir(dir);
  return getSecret(dir, name);
}
