/** Which setting names config.yml may use at all, before asking the catalogue about them. */

/** Settings other components depend on: config.yml cannot override them. */
export const PROTECTED_SETTINGS = [
  'data_directory',
  'hba_file',
  'ident_file',
  'config_file',
  'external_pid_file',
  'port',
] as const;

/** a word, or an extension's prefix.word (postgres allows more; this is what tpa writes safely) */
export const SETTING_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/i;

export function isProtectedSetting(name: string): boolean {
  return (PROTECTED_SETTINGS as readonly string[]).includes(name.toLowerCase());
}
