/**
 * config.yml from the browser: validated by the same parser as `tpa validate`, saved through
 * the one module that edits config.yml (clusterdir/edit-config.ts: written only when valid,
 * atomically, and committed), under the group's lock; and the directory's history.
 */
import { CONFIG_FILE, historyWithDiffs, loadClusterConfig, readConfigText } from '../clusterdir/index.ts';
import { editConfig } from '../clusterdir/edit-config.ts';
import { acquireGroupLock } from '../clusterdir/lock.ts';
import { ConfigError } from '../core/errors.ts';
import { parseConfig } from '../model/parse.ts';
import type { HistoryEntry, SaveResult, ValidationResult } from './types.ts';

export async function readConfig(dir: string): Promise<string> {
  return (await readConfigText(dir)).text;
}

export function validateText(text: string): ValidationResult {
  const { errors, warnings } = parseConfig(text, CONFIG_FILE);
  return { ok: errors.length === 0, errors, warnings };
}

/** Writes and commits `text` when it is valid; otherwise nothing changes and the problems are returned. */
export async function saveConfig(dir: string, text: string, message: string): Promise<SaveResult> {
  const checked = validateText(text);
  if (!checked.ok) return checked;
  const lock = acquireGroupLock(dir, 'tpa ui: save config.yml');
  try {
    const r = await editConfig(dir, () => text, message);
    return { ...checked, commit: r.commit };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, errors: e.issues, warnings: checked.warnings };
    throw e;
  } finally {
    lock.release();
  }
}

export async function configHistory(dir: string): Promise<HistoryEntry[]> {
  return historyWithDiffs(dir, 30);
}

/** config.yml with every default filled in, as JSON */
export async function configJson(dir: string): Promise<string> {
  return JSON.stringify((await loadClusterConfig(dir)).config, null, 2) + '\n';
}
