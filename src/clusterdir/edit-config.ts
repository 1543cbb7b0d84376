/**
 * The one way an operation changes config.yml: the edit is applied to the text (comments
 * kept, config-edits.ts), the result is validated exactly as `tpa validate` would, and only a
 * valid result is written (atomically) and committed. A refused edit leaves config.yml and the
 * history as they were, so a failed operation never leaves a directory that `validate`,
 * `status` or `deprovision` refuse.
 */
import { ConfigError } from '../core/errors.ts';
import { parseConfig } from '../model/parse.ts';
import type { ClusterGroupConfig } from '../model/schema.ts';
import { CONFIG_FILE, readConfigText, writeClusterFile } from './dir.ts';
import { commitChanges, initRepo, isRepo } from './git.ts';

export interface ConfigEditResult {
  /** config.yml before and after the edit */
  before: string;
  after: string;
  config: ClusterGroupConfig;
  /** the commit, or null when the edit changed nothing */
  commit: string | null;
}

/** Validates an edited config.yml text; throws ConfigError naming every problem and `why`. */
export function validateEdit(text: string, why: string): ClusterGroupConfig {
  const { config, errors } = parseConfig(text, CONFIG_FILE);
  if (errors.length === 0 && config !== undefined) return config;
  // the issues are printed one per line before the message (cli/output.ts)
  throw new ConfigError(
    errors,
    `${why}: the change to ${CONFIG_FILE} would not be valid, so nothing was changed`,
  );
}

/**
 * Applies `edit` to DIR/config.yml, validates, writes and commits with `message`. An edit that
 * returns the text unchanged writes and commits nothing.
 */
export async function editConfig(
  dir: string,
  edit: (text: string) => string,
  message: string,
): Promise<ConfigEditResult> {
  const { dir: abs, text: before } = await readConfigText(dir);
  const after = edit(before);
  const config = validateEdit(after, message);
  if (after === before) return { before, after, config, commit: null };
  await writeClusterFile(abs, CONFIG_FILE, after);
  if (!(await isRepo(abs))) await initRepo(abs);
  const commit = await commitChanges(abs, [CONFIG_FILE], message);
  return { before, after, config, commit };
}
