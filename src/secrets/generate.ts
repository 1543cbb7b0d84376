/**
 * Fresh secret values. Passwords use letters and digits only, so they can go into a conninfo
 * string, a .pgpass line, pgbouncer's userlist or a YAML file without any quoting.
 */
import { randomInt } from 'node:crypto';
import ssh2 from 'ssh2';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** 32 of 62 symbols: about 190 bits */
export const PASSWORD_LENGTH = 32;

export function generatePassword(length = PASSWORD_LENGTH): string {
  let out = '';
  // randomInt is uniform (no modulo bias)
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export interface SshKeyPair {
  /** OpenSSH private key (PEM-like, ends with a newline) */
  privateKey: string;
  /** one line: `ssh-ed25519 AAAA... comment` */
  publicKey: string;
}

export function generateSshKeyPair(comment: string): SshKeyPair {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: pair.private, publicKey: pair.public.trim() };
}

/** The `type base64 comment` line of a private key; undefined when it is not a key ssh2 can read. */
export function publicKeyOf(privateKey: string): string | undefined {
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) return undefined;
  return `${parsed.type} ${parsed.getPublicSSH().toString('base64')} ${parsed.comment}`.trim();
}
