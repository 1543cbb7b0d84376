/**
 * DIR/known_hosts in OpenSSH's format, so the same file works for tpa and for
 * `ssh -o UserKnownHostsFile=DIR/known_hosts`. One line per host and key:
 * `[address]:port keytype base64` (plain `address` for port 22).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

export interface KnownHostKey {
  /** the host patterns of the line, e.g. `[10.0.0.5]:2222` or `10.0.0.5` */
  hosts: string[];
  keyType: string;
  /** base64 of the key blob */
  key: string;
}

/** How OpenSSH names a host in known_hosts. */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

export function formatKnownHostsLine(address: string, port: number, keyType: string, key: string): string {
  return `${hostPattern(address, port)} ${keyType} ${key}`;
}

/** Parse one line; undefined for comments, blanks, markers (@revoked) and hashed names. */
export function parseKnownHostsLine(line: string): KnownHostKey | undefined {
  const t = line.trim();
  if (!t || t.startsWith('#') || t.startsWith('@') || t.startsWith('|')) return undefined;
  const [hosts, keyType, key] = t.split(/\s+/);
  if (!hosts || !keyType || !key) return undefined;
  return { hosts: hosts.split(','), keyType, key };
}

export function readKnownHosts(path: string): KnownHostKey[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .map(parseKnownHostsLine)
    .filter((e): e is KnownHostKey => e !== undefined);
}

/** Keys recorded for address:port (a host may have several, of different types). */
export function lookupHostKeys(entries: KnownHostKey[], address: string, port: number): KnownHostKey[] {
  const pattern = hostPattern(address, port);
  return entries.filter((e) => e.hosts.includes(pattern));
}

/** The one key to pin for address:port (the first recorded), if any. */
export function lookupHostKey(path: string, address: string, port: number): KnownHostKey | undefined {
  return lookupHostKeys(readKnownHosts(path), address, port)[0];
}

function rewrite(path: string, keep: (entry: KnownHostKey | undefined) => boolean, extra: string[]): boolean {
  const old = existsSync(path) ? readFileSync(path, 'utf8').split('\n') : [];
  if (old.length && old[old.length - 1] === '') old.pop();
  const lines = [...old.filter((l) => keep(parseKnownHostsLine(l))), ...extra];
  const next = lines.length ? lines.join('\n') + '\n' : '';
  if (existsSync(path) && readFileSync(path, 'utf8') === next) return false;
  // write then rename, so a crash never leaves a half-written file
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  writeFileSync(tmp, next, { mode: 0o644 });
  renameSync(tmp, path);
  return true;
}

/**
 * Record the key of address:port, replacing whatever was recorded for it before.
 * Other hosts' lines and comments are kept as they were. Returns whether the file changed.
 */
export function recordHostKey(
  path: string,
  address: string,
  port: number,
  keyType: string,
  key: string,
): boolean {
  const pattern = hostPattern(address, port);
  const existing = lookupHostKeys(readKnownHosts(path), address, port);
  if (existing.length === 1 && existing[0]?.keyType === keyType && existing[0].key === key) return false;
  return rewrite(path, (e) => !e?.hosts.includes(pattern), [
    formatKnownHostsLine(address, port, keyType, key),
  ]);
}

/** Forget address:port (e.g. when a node is removed or rebuilt). Returns whether the file changed. */
export function removeHostKey(path: string, address: string, port: number): boolean {
  const pattern = hostPattern(address, port);
  return rewrite(path, (e) => !e?.hosts.includes(pattern), []);
}
