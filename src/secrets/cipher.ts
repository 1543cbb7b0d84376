/**
 * One secret, one AES-256-GCM ciphertext with its own random 96-bit IV. The secret's name is
 * bound in as associated data, so swapping two entries in the file fails authentication just
 * like editing one does.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SecretKeyMismatchError, SecretTamperedError } from './errors.ts';
import type { VaultKey } from './key.ts';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

export const EncryptedSecretSchema = z.strictObject({
  /** id of the key that encrypted it (see key.ts) */
  kid: z.string().regex(/^[0-9a-f]{16}$/),
  iv: base64,
  tag: base64,
  data: base64,
});
export type EncryptedSecret = z.infer<typeof EncryptedSecretSchema>;

function associatedData(name: string): Buffer {
  return Buffer.from(`tpa-secret:v1:${name}`, 'utf8');
}

export function encryptSecret(key: VaultKey, name: string, value: string): EncryptedSecret {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key.bytes, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(name));
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return {
    kid: key.id,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

/** `file` only names the store in error messages. */
export function decryptSecret(key: VaultKey, name: string, entry: EncryptedSecret, file: string): string {
  if (entry.kid !== key.id) throw new SecretKeyMismatchError(entry.kid, key.id, key.source);
  const iv = Buffer.from(entry.iv, 'base64');
  const tag = Buffer.from(entry.tag, 'base64');
  // a shortened tag would weaken authentication; GCM in node would otherwise accept it
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretTamperedError(name, file);
  const decipher = createDecipheriv(ALGORITHM, key.bytes, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(name));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(Buffer.from(entry.data, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new SecretTamperedError(name, file);
  }
}
