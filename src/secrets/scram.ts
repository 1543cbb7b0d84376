/**
 * SCRAM-SHA-256 verifiers (RFC 5802, RFC 7677) computed locally, in the form PostgreSQL stores
 * in pg_authid.rolpassword:
 *   SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>
 * tpa sends only this verifier to a server (ALTER ROLE ... PASSWORD '<verifier>'), so a
 * password never appears in a server log or in pg_stat_activity.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCRAM_DEFAULT_ITERATIONS = 4096;
/** PostgreSQL's own salt length */
export const SCRAM_SALT_BYTES = 16;

type Ranges = readonly (readonly [number, number])[];
// RFC 3454 C.1.2: non-ASCII spaces, mapped to U+0020 by SASLprep.
const NON_ASCII_SPACE: Ranges = [
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];
// RFC 3454 B.1: characters "commonly mapped to nothing" (as code point ranges: several of them
// are combining marks, which a regex character class would misread).
const MAPPED_TO_NOTHING: Ranges = [
  [0xad, 0xad],
  [0x34f, 0x34f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];
const inRanges = (cp: number, ranges: Ranges) => ranges.some(([lo, hi]) => cp >= lo && cp <= hi);

function mapChars(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (inRanges(cp, MAPPED_TO_NOTHING)) continue;
    out += inRanges(cp, NON_ASCII_SPACE) ? ' ' : ch;
  }
  return out;
}
// The prohibited tables most likely to show up in a password (C.2 controls, C.3 private use,
// C.4 non-characters, C.5 surrogates, C.8 directionality marks, C.9 tags).
const PROHIBITED =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001F\u007F-\u009F\u06DD\u070F\u180E\u200E\u200F\u202A-\u202E\u2061-\u2063\u206A-\u206F\uE000-\uF8FF\uFDD0-\uFDEF\uFFF9-\uFFFF]|[\uD800-\uDFFF]/u;

/**
 * The bytes PostgreSQL hashes for a password: SASLprep'd UTF-8, or the raw UTF-8 when SASLprep
 * rejects the string (PostgreSQL then falls back to the raw password, and so do we). Pure
 * ASCII passwords, like the ones tpa generates, are used as they are.
 */
export function scramPasswordBytes(password: string): Buffer {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007F]*$/.test(password)) return Buffer.from(password, 'utf8');
  const prepared = mapChars(password).normalize('NFKC');
  if (prepared.length === 0 || PROHIBITED.test(prepared)) return Buffer.from(password, 'utf8');
  return Buffer.from(prepared, 'utf8');
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

function keys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(scramPasswordBytes(password), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: hmac(salted, 'Server Key'),
  };
}

/**
 * The verifier of `password`. `salt` (raw bytes or base64) defaults to 16 random bytes, so two
 * calls give different verifiers for the same password; use scramVerifierMatches to compare.
 */
export function scramVerifier(
  password: string,
  salt?: Buffer | string,
  iterations: number = SCRAM_DEFAULT_ITERATIONS,
): string {
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new RangeError('iterations must be a positive integer');
  const saltBytes =
    salt === undefined
      ? randomBytes(SCRAM_SALT_BYTES)
      : typeof salt === 'string'
        ? Buffer.from(salt, 'base64')
        : salt;
  if (saltBytes.length === 0) throw new RangeError('salt must not be empty');
  const { storedKey, serverKey } = keys(password, saltBytes, iterations);
  return `SCRAM-SHA-256$${iterations}:${saltBytes.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

export interface ParsedScramVerifier {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

/** Parses a stored verifier; undefined for anything else (md5 hashes, plaintext, null). */
export function parseScramVerifier(verifier: string | null | undefined): ParsedScramVerifier | undefined {
  const m = verifier ? VERIFIER.exec(verifier) : null;
  if (!m) return undefined;
  const parsed = {
    iterations: Number(m[1]),
    salt: Buffer.from(m[2]!, 'base64'),
    storedKey: Buffer.from(m[3]!, 'base64'),
    serverKey: Buffer.from(m[4]!, 'base64'),
  };
  if (parsed.iterations < 1 || parsed.storedKey.length !== 32 || parsed.serverKey.length !== 32)
    return undefined;
  return parsed;
}

/** Whether `verifier` (e.g. read from pg_authid) was made from `password`. */
export function scramVerifierMatches(verifier: string | null | undefined, password: string): boolean {
  const parsed = parseScramVerifier(verifier);
  if (!parsed) return false;
  const { storedKey, serverKey } = keys(password, parsed.salt, parsed.iterations);
  return timingSafeEqual(storedKey, parsed.storedKey) && timingSafeEqual(serverKey, parsed.serverKey);
}

/**
 * The verifier to declare for a role: the existing one when it still matches the password (so
 * a re-deploy changes nothing), a fresh one otherwise.
 */
export function stableScramVerifier(existing: string | null | undefined, password: string): string {
  return existing && scramVerifierMatches(existing, password) ? existing : scramVerifier(password);
}
