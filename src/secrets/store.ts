/**
 * DIR/secrets.enc.json: the encrypted secrets of one cluster directory. Names are in plain
 * (they are not secret and make `git diff` readable); values only as ciphertexts. The file is
 * written whole to a temporary name and renamed, always with mode 0600.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { chmod, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { EncryptedSecretSchema, type EncryptedSecret } from './cipher.ts';
import { SecretStoreError } from './errors.ts';

export const STORE_FILE = 'secrets.enc.json';
const FORMAT = 'tpa-secrets/1';

const StoreSchema = z.object({
  format: z.literal(FORMAT),
  cipher: z.literal('aes-256-gcm'),
  secrets: z.record(z.string(), EncryptedSecretSchema),
});

export type SecretEntries = Record<string, EncryptedSecret>;

export function storePath(dir: string): string {
  return join(dir, STORE_FILE);
}

/** The entries of DIR's store; none when the file does not exist yet. */
export async function readStore(dir: string): Promise<SecretEntries> {
  const file = storePath(dir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SecretStoreError(file, 'not valid JSON');
  }
  const parsed = StoreSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SecretStoreError(file, `${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data.secrets;
}

export async function writeStore(dir: string, entries: SecretEntries): Promise<void> {
  const file = storePath(dir);
  const sorted = Object.fromEntries(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const body = {
    format: FORMAT,
    cipher: 'aes-256-gcm',
    about:
      'Secrets of this cluster, each encrypted with AES-256-GCM under a key kept outside this ' +
      'directory (TPA_SECRET_KEY, TPA_KEY_FILE or ~/.config/tpa/secret.key). Read them with `tpa secrets`.',
    secrets: sorted,
  };
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(JSON.stringify(body, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  await chmod(file, 0o600);
}
