/**
 * The vault key: 32 random bytes kept outside every cluster directory, so that a directory can
 * be pushed to git without giving its secrets away. Looked up in this order:
 *   TPA_SECRET_KEY   base64 of the 32 bytes (CI, containers)
 *   TPA_KEY_FILE     a file holding that base64 text
 *   $XDG_CONFIG_HOME/tpa/secret.key, else ~/.config/tpa/secret.key (created on first use, 0600)
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SecretKeyInvalidError, SecretKeyMissingError } from './errors.ts';

export const KEY_BYTES = 32;

export interface VaultKey {
  bytes: Buffer;
  /** public fingerprint recorded next to each ciphertext; reveals nothing about the key */
  id: string;
  /** where it came from, for messages: `TPA_SECRET_KEY` or the file path */
  source: string;
}

export function keyId(bytes: Buffer): string {
  return createHash('sha256').update('tpa-vault-key-id\0').update(bytes).digest('hex').slice(0, 16);
}

/** The key file tpa uses when TPA_SECRET_KEY is not set. */
export function keyFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TPA_KEY_FILE) return resolve(env.TPA_KEY_FILE);
  const configHome = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(configHome, 'tpa', 'secret.key');
}

function parseKey(text: string, source: string, hint: string): VaultKey {
  const trimmed = text.trim();
  const bytes = Buffer.from(trimmed, 'base64');
  // Buffer.from ignores junk, so compare the round trip to reject anything that is not clean base64
  if (bytes.length !== KEY_BYTES || bytes.toString('base64') !== trimmed) {
    throw new SecretKeyInvalidError(`the secret key in ${source} is not base64 of ${KEY_BYTES} bytes`, hint);
  }
  return { bytes, id: keyId(bytes), source };
}

async function readKeyFile(file: string): Promise<VaultKey> {
  const st = await stat(file);
  if (!st.isFile()) {
    throw new SecretKeyInvalidError(
      `the secret key ${file} is not a file`,
      'point TPA_KEY_FILE at the key file',
    );
  }
  // like ssh with private keys: a key others can read is a leaked key
  if ((st.mode & 0o077) !== 0) {
    throw new SecretKeyInvalidError(
      `the secret key ${file} is accessible by other users (mode ${(st.mode & 0o777).toString(8)})`,
      `chmod 600 ${file}`,
    );
  }
  return parseKey(await readFile(file, 'utf8'), file, `restore ${file} from your backup of it`);
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The key to decrypt with; never creates one. */
export async function loadKey(env: NodeJS.ProcessEnv = process.env): Promise<VaultKey> {
  if (env.TPA_SECRET_KEY) {
    return parseKey(
      env.TPA_SECRET_KEY,
      'TPA_SECRET_KEY',
      `set TPA_SECRET_KEY to the base64 contents of the key file (${KEY_BYTES} bytes)`,
    );
  }
  const file = keyFilePath(env);
  try {
    return await readKeyFile(file);
  } catch (e) {
    if (isNotFound(e)) throw new SecretKeyMissingError(file);
    throw e;
  }
}

/** The key to encrypt with: the existing one, or a new key file (0600, in a 0700 directory). */
export async function loadOrCreateKey(env: NodeJS.ProcessEnv = process.env): Promise<VaultKey> {
  if (env.TPA_SECRET_KEY) return loadKey(env);
  const file = keyFilePath(env);
  const parent = dirname(file);
  try {
    await stat(parent);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await mkdir(parent, { recursive: true, mode: 0o700 });
    await chmod(parent, 0o700); // mkdir's mode is subject to the umask
  }
  const bytes = randomBytes(KEY_BYTES);
  // written whole under a private name, then link()ed into place: link fails if the name exists,
  // so two tpa processes racing here end up sharing one complete key, never two or a torn one
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    await handle.chmod(0o600); // open's mode is subject to the umask
    await handle.writeFile(bytes.toString('base64') + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(file);
    throw e;
  } finally {
    await unlink(temp);
  }
  return { bytes, id: keyId(bytes), source: file };
}
