/**
 * OpenSSH public key lines ("TYPE BASE64 [comment]"). The blob starts with its own key type,
 * which must match the one in front of it; a mismatch means a pasted or truncated key.
 */

export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

export type SshKeyResult =
  { ok: true; type: string; blob: string; comment: string } | { ok: false; problem: string; hint?: string };

export function parseSshPublicKey(line: string): SshKeyResult {
  const text = line.trim();
  if (/^-----BEGIN .*PRIVATE KEY-----/.test(text) || text.startsWith('PuTTY-User-Key-File')) {
    return {
      ok: false,
      problem: 'is a private key',
      hint: 'give the public key (the .pub file); never share the private key',
    };
  }
  const [type = '', blob = '', ...rest] = text.split(/\s+/);
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
    const problem =
      type === 'ssh-dss'
        ? 'is a DSA key, which OpenSSH no longer accepts'
        : `has unknown key type "${type.slice(0, 40)}"`;
    return {
      ok: false,
      problem,
      hint: `an OpenSSH public key line starts with one of ${SSH_KEY_TYPES.slice(0, 3).join(', ')}, ...`,
    };
  }
  if (blob === '') return { ok: false, problem: 'has no key data after the type' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || blob.length % 4 !== 0) {
    return {
      ok: false,
      problem: 'has key data that is not valid base64',
      hint: 'the key may be truncated or wrapped over several lines',
    };
  }
  const bytes = Buffer.from(blob, 'base64');
  const embedded = bytes.length >= 4 ? readSshString(bytes) : undefined;
  if (embedded === undefined) return { ok: false, problem: 'has key data too short to be a key' };
  if (embedded !== type) {
    return { ok: false, problem: `says "${type}" but its key data is a "${embedded.slice(0, 40)}" key` };
  }
  return { ok: true, type, blob, comment: rest.join(' ') };
}

/** The first length-prefixed string of an SSH wire-format blob. */
function readSshString(bytes: Buffer): string | undefined {
  const len = bytes.readUInt32BE(0);
  if (len === 0 || len > 64 || bytes.length < 4 + len) return undefined;
  const s = bytes.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(s) ? s : undefined;
}
