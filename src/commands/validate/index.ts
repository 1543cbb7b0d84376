/** `tpa validate`: every problem in DIR/config.yml at once. Reads only; changes nothing. */
import type { ConfigIssue } from '../../core/errors.ts';
import { CONFIG_FILE, readConfigText } from '../../clusterdir/index.ts';
import { parseConfig } from '../../model/parse.ts';

export interface ValidationReport {
  /** absolute path of config.yml */
  file: string;
  ok: boolean;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Throws UsageError when DIR or its config.yml is missing; config problems are returned, not thrown. */
export async function validateClusterDir(dir: string): Promise<ValidationReport> {
  const { path, text } = await readConfigText(dir);
  const { errors, warnings } = parseConfig(text, CONFIG_FILE);
  return { file: path, ok: errors.length === 0, errors, warnings };
}
