/**
 * A cluster directory's vault, opened once: secrets.enc.json is read once, the key loaded once
 * and each entry decrypted at most once, however many hosts and components ask for secrets in
 * one command. Changes stay in memory until save(), which writes the file once.
 *
 * openVault keeps one Vault per directory for the life of the process. It is reused while the
 * file is the one it read (same inode, size and mtime) and the key settings are the same, so an
 * edit by another process (another tpa, a long-running web console) is still seen.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decryptSecret, encryptSecret } from './cipher.ts';
import { InvalidSecretNameError, UnknownSecretError } from './errors.ts';
import { loadKey, loadOrCreateKey, type VaultKey } from './key.ts';
import { readStore, STORE_FILE, writeStore, type SecretEntries } from './store.ts';

const NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export function checkName(name: string): void {
  if (!NAME_PATTERN.test(name)) throw new InvalidSecretNameError(name);
}

function sortedNames(entries: SecretEntries): string[] {
  return Object.keys(entries).sort();
}

// Writers of one directory take turns inside this process, so no update is lost.
const queues = new Map<string, Promise<unknown>>();
export async function exclusive<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const id = resolve(dir);
  const previous = queues.get(id) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.catch(() => undefined);
  queues.set(id, settled);
  try {
    return await run;
  } finally {
    if (queues.get(id) === settled) queues.delete(id);
  }
}

/** the file as it is on disk now, without reading it; '' when it does not exist */
async function fileSignature(dir: string): Promise<string> {
  try {
    const s = await stat(join(dir, STORE_FILE), { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return '';
  }
}

function keySettings(env: NodeJS.ProcessEnv = process.env): string {
  return JSON.stringify([env.TPA_SECRET_KEY, env.TPA_KEY_FILE, env.XDG_CONFIG_HOME, env.HOME]);
}

export class Vault {
  private key: VaultKey | undefined;
  /** every entry proven readable with `key`: the precondition of adding one */
  private keyFits = false;
  private readonly plain = new Map<string, string>();
  private dirty = false;

  private constructor(
    readonly dir: string,
    private readonly entries: SecretEntries,
    private signature: string,
    readonly keySettings: string,
  ) {}

  static async read(dir: string): Promise<Vault> {
    const signature = await fileSignature(dir);
    return new Vault(dir, await readStore(dir), signature, keySettings());
  }

  get label(): string {
    return join(this.dir, STORE_FILE);
  }

  /** Names need no key: they are not secret. */
  names(): string[] {
    return sortedNames(this.entries);
  }

  has(name: string): boolean {
    return this.entries[name] !== undefined;
  }

  async get(name: string): Promise<string> {
    const known = this.plain.get(name);
    if (known !== undefined) return known;
    const entry = this.entries[name];
    if (!entry) throw new UnknownSecretError(name, this.names());
    this.key ??= await loadKey();
    const value = decryptSecret(this.key, name, entry, this.label);
    this.plain.set(name, value);
    return value;
  }

  async getAll(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const name of this.names()) out[name] = await this.get(name);
    return out;
  }

  /** Stores (or replaces) one secret in memory; save() writes it. */
  async set(name: string, value: string): Promise<void> {
    checkName(name);
    if (!this.keyFits) {
      // an existing store decides the key: never start a second key beside secrets made with the first
      this.key ??= Object.keys(this.entries).length > 0 ? await loadKey() : await loadOrCreateKey();
      for (const n of this.names()) await this.get(n);
      this.keyFits = true;
    }
    this.entries[name] = encryptSecret(this.key!, name, value);
    this.plain.set(name, value);
    this.dirty = true;
  }

  /** Writes the file when something changed; true when it did. */
  async save(): Promise<boolean> {
    if (!this.dirty) return false;
    await writeStore(this.dir, this.entries);
    this.dirty = false;
    this.signature = await fileSignature(this.dir);
    return true;
  }

  /** still what is on disk, read with the same key settings */
  async current(): Promise<boolean> {
    return this.keySettings === keySettings() && this.signature === (await fileSignature(this.dir));
  }
}

const opened = new Map<string, Promise<Vault>>();

/** The directory's vault, read from disk only when it is not open already or the file changed. */
export async function openVault(dir: string): Promise<Vault> {
  const id = resolve(dir);
  const cached = opened.get(id);
  if (cached) {
    const v = await cached.catch(() => undefined);
    if (v && (await v.current())) return v;
    if (opened.get(id) !== cached) return openVault(dir);
  }
  const fresh = Vault.read(dir);
  opened.set(id, fresh);
  fresh.catch(() => {
    if (opened.get(id) === fresh) opened.delete(id);
  });
  return fresh;
}

/** Forget the open vault of a directory (its file was replaced by other means). */
export function forgetVault(dir: string): void {
  opened.delete(resolve(dir));
}
