/**
 * Every postgres setting in config.yml (postgres.settings, a cluster's and a node's
 * postgres_settings) against PostgreSQL 15's catalogue: a name it knows (or an extension's
 * prefix.name), not read-only, not one tpa manages, and a value the server would start with.
 */
import type { ClusterGroupConfig } from '../schema.ts';
import { findSetting, reservedPrefixes, settingsCatalogue } from '../pg-settings/catalogue.ts';
import { isProtectedSetting, SETTING_NAME } from '../pg-settings/names.ts';
import { checkSettingValue, type SettingInput, type ValueProblem } from '../pg-settings/value.ts';
import { closest } from '../suggest.ts';
import { error, type IssuePath, type RuleIssue } from './types.ts';

/** The three places settings are written, each with its config path. */
export function settingLayers(
  config: ClusterGroupConfig,
): { path: IssuePath; values: Record<string, SettingInput> }[] {
  return [
    { path: ['postgres', 'settings'], values: config.postgres.settings },
    ...config.clusters.flatMap((c, ci) => [
      { path: ['clusters', ci, 'postgres_settings'], values: c.postgres_settings ?? {} },
      ...c.nodes.map((n, ni) => ({
        path: ['clusters', ci, 'nodes', ni, 'postgres_settings'],
        values: n.postgres_settings ?? {},
      })),
    ]),
  ];
}

export function postgresSettings(config: ClusterGroupConfig): RuleIssue[] {
  // another version is refused by postgresVersionAvailable; its settings are not this catalogue's
  if (config.postgres.version !== settingsCatalogue().postgres) return [];
  return settingLayers(config).flatMap(({ path, values }) =>
    Object.entries(values).flatMap(([name, value]) => {
      const problem = settingProblem(name, value);
      return problem ? [error([...path, name], problem.message, problem.hint)] : [];
    }),
  );
}

/** What is wrong with `name: value` in a postgres settings mapping, if anything. */
export function settingProblem(name: string, value: SettingInput): ValueProblem | undefined {
  const names = () => settingsCatalogue().settings.map((s) => s.name);
  const didYouMean = (candidates: string[]) => {
    const near = closest(name, candidates, name.length > 12 ? 3 : 2);
    return near ? { hint: `did you mean ${near}?` } : {};
  };
  if (!SETTING_NAME.test(name))
    return { message: `${JSON.stringify(name)} is not a setting name`, ...didYouMean(names()) };
  if (isProtectedSetting(name))
    return {
      message: `${name} is managed by tpa and cannot be overridden`,
      hint: 'other components rely on its value',
    };
  if (typeof value === 'string' && /[\n\r\0]/.test(value))
    return { message: 'a setting value must be one line' };
  if (typeof value === 'number' && !Number.isFinite(value)) return { message: 'not a finite number' };

  const spec = findSetting(name);
  if (spec === undefined) {
    const prefix = name.includes('.') ? name.slice(0, name.indexOf('.')).toLowerCase() : undefined;
    // any other prefix.name is an extension's: postgres takes it as it is
    if (prefix !== undefined && !reservedPrefixes().includes(prefix)) return undefined;
    const own = names().filter((n) => prefix === undefined || n.startsWith(`${prefix}.`));
    const fallback = prefix
      ? `${prefix} has ${own.join(', ')}`
      : "an extension's setting is written with its prefix, e.g. pg_stat_statements.max";
    return {
      message: prefix ? `${prefix} has no setting ${name}` : `PostgreSQL 15 has no setting ${name}`,
      hint: didYouMean(own).hint ?? fallback,
    };
  }
  if (spec.context === 'internal')
    return {
      message: `${spec.name} cannot be set: it is read-only, fixed when PostgreSQL is built or the cluster is created`,
    };
  const checked = checkSettingValue(spec, value);
  return checked.ok
    ? undefined
    : { message: checked.message, ...(checked.hint ? { hint: checked.hint } : {}) };
}
