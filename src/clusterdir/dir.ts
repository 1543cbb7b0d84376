/**
 * Finding, reading and writing the cluster directory. Commands take DIR from the user, so
 * a missing directory or config.yml is bad input (exit 2) with a hint, not a crash.
 */
import { mkdir, readdir, readFile, rename, stat, writeFile, chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, UsageError } from '../core/errors.ts';
import type { ConfigIssue } from '../core/errors.ts';
import { parseConfig } from '../model/parse.ts';
import type { ClusterGroupConfig } from '../model/schema.ts';

export const CONFIG_FILE = 'config.yml';

/** The absolute path of an existing cluster directory (one that holds config.yml). */
export async function requireClusterDir(dir: string): Promise<string> {
  const abs = resolve(dir);
  const st = await stat(abs).catch(() => undefined);
  if (st === undefined) {
    throw new UsageError(`cluster directory ${dir} does not exist`, `create one with: tpa configure ${dir}`);
  }
  if (!st.isDirectory()) throw new UsageError(`${dir} is not a directory`, 'give the cluster directory');
  const cfg = await stat(join(abs, CONFIG_FILE)).catch(() => undefined);
  if (cfg === undefined || !cfg.isFile()) {
    throw new UsageError(
      `${dir} is not a cluster directory: it has no ${CONFIG_FILE}`,
      `create one with: tpa configure ${dir} (or give the directory that holds ${CONFIG_FILE})`,
    );
  }
  return abs;
}

export async function readConfigText(dir: string): Promise<{ dir: string; path: string; text: string }> {
  const abs = await requireClusterDir(dir);
  const path = join(abs, CONFIG_FILE);
  return { dir: abs, path, text: await readFile(path, 'utf8') };
}

export interface LoadedConfig {
  /** absolute path of the cluster directory */
  dir: string;
  config: ClusterGroupConfig;
  warnings: ConfigIssue[];
  /** config.yml as read */
  text: string;
}

/** Reads and validates DIR/config.yml; throws ConfigError with every problem when it is not valid. */
export async function loadClusterConfig(dir: string): Promise<LoadedConfig> {
  const { dir: abs, text } = await readConfigText(dir);
  const { config, warnings, errors } = parseConfig(text, CONFIG_FILE);
  if (errors.length > 0 || config === undefined) throw new ConfigError(errors);
  return { dir: abs, config, warnings, text };
}

/** True when path does not exist or is an empty directory. */
export async function isMissingOrEmpty(path: string): Promise<boolean> {
  const entries = await readdir(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    if (e.code === 'ENOTDIR') return ['(a file)'];
    throw e;
  });
  return entries.length === 0;
}

/**
 * Writes DIR/name atomically (temp file + rename), so a crash never leaves half a config.yml.
 * mode 0o600 for anything holding secrets.
 */
export async function writeClusterFile(
  dir: string,
  name: string,
  content: string,
  mode = 0o644,
): Promise<string> {
  const path = join(dir, name);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
  return path;
}
