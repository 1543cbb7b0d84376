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

/**
 * ssh2 1.17's ed25519 keygen strips a public key's leading zero byte (about one key in 256),
 * and then cannot read its own key back ("Malformed OpenSSH private key": a whole deploy failed
 * on it in CI). Such a pair is thrown away and another made.
 */
export function generateSshKeyPair(comment: string): SshKeyPair {
  for (let attempt = 0; attempt < 32; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    const readable =
      !(ssh2.utils.parseKey(pair.private) instanceof Error) &&
      !(ssh2.utils.parseKey(pair.public) instanceof Error);
    if (readable) return { privateKey: pair.private, publicKey: pair.public.trim() };
  }
  throw new Error('could not generate an ed25519 key pair that ssh2 reads back');
}

/** The `type base64 comment` line of a private key; undefined when it is not a key ssh2 can read. */
export function publicKeyOf(privateKey: string): string | undefined {
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) return undefined;
  return `${parsed.type} ${parsed.getPublicSSH().toString('base64')} ${parsed.comment}`.trim();
}
