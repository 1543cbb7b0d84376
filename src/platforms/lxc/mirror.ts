/**
 * The Debian mirror the containers use is the host's own: read from its apt configuration at
 * run time (deb822 `.sources` files or one-line `sources.list`), never written into tpa.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationError } from '../../core/errors.ts';

export interface HostMirrors {
  /** e.g. http://<mirror>/debian */
  main: string;
  /** e.g. http://<mirror>/debian-security; absent when the host has none configured */
  security?: string;
}

interface SourceEntry {
  uri: string;
  suites: string[];
}

/** Entries of a deb822 file (`Types: deb` stanzas that are not disabled). */
export function parseDeb822(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (/^\s*#/.test(line) || line.trim() === '') continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1]!.toLowerCase();
        fields.set(last, m[2]!.trim());
      } else if (last && /^\s/.test(line)) {
        fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`.trim());
      }
    }
    const types = (fields.get('types') ?? '').split(/\s+/);
    if (!types.includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') continue;
    const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean);
    for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) entries.push({ uri, suites });
  }
  return entries;
}

/** Entries of a one-line-style sources.list. */
export function parseOneLine(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    // deb [options] uri suite components...
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m) entries.push({ uri: m[1]!, suites: [m[2]!] });
  }
  return entries;
}

/** The main and security mirrors among the entries; only http(s) mirrors can go through the proxy. */
export function pickMirrors(entries: SourceEntry[]): HostMirrors | undefined {
  const usable = entries.filter((e) => /^https?:\/\//.test(e.uri));
  const isSecurity = (e: SourceEntry) =>
    e.suites.some((s) => s.endsWith('-security') || s.endsWith('/updates'));
  const main = usable.find((e) => !isSecurity(e));
  if (!main) return undefined;
  const security = usable.find(isSecurity);
  const trim = (u: string) => u.replace(/\/+$/, '');
  return { main: trim(main.uri), ...(security ? { security: trim(security.uri) } : {}) };
}

/** Reads the host's apt sources (under `root`, for tests). */
export async function readHostMirrors(root = '/'): Promise<HostMirrors> {
  const entries: SourceEntry[] = [];
  const listDir = join(root, 'etc/apt/sources.list.d');
  const files = await readdir(listDir).catch(() => [] as string[]);
  for (const f of files.sort()) {
    if (f.endsWith('.sources')) entries.push(...parseDeb822(await readFile(join(listDir, f), 'utf8')));
    else if (f.endsWith('.list')) entries.push(...parseOneLine(await readFile(join(listDir, f), 'utf8')));
  }
  const legacy = await readFile(join(root, 'etc/apt/sources.list'), 'utf8').catch(() => '');
  entries.push(...parseOneLine(legacy));
  const mirrors = pickMirrors(entries);
  if (!mirrors) {
    throw new OperationError('no Debian mirror found in the host apt configuration', {
      step: 'preflight',
      hint: 'the containers use the host mirror: configure one in /etc/apt/sources.list.d/debian.sources',
    });
  }
  return mirrors;
}
