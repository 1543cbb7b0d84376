/**
 * PostgreSQL 15's settings catalogue: the shape of every setting (type, unit, range, allowed
 * values, context), generated from a real server's pg_settings by scripts/gen-pg-settings.ts.
 * Pure data: the JSON next to this file is imported, never read at run time.
 */
import { z } from 'zod';
import data from './pg15-settings.json' with { type: 'json' };

export const CATALOGUE_FILE = 'src/model/pg-settings/pg15-settings.json';

export const VARTYPES = ['bool', 'integer', 'real', 'string', 'enum'] as const;
/** pg_settings.context, from "fixed at build" to "any session may change it" */
export const CONTEXTS = [
  'internal',
  'postmaster',
  'sighup',
  'superuser-backend',
  'backend',
  'superuser',
  'user',
] as const;

export type VarType = (typeof VARTYPES)[number];
export type SettingContext = (typeof CONTEXTS)[number];

const SettingSpecSchema = z.strictObject({
  /** pg_settings' spelling (a few names are mixed case: TimeZone, DateStyle, IntervalStyle) */
  name: z.string(),
  vartype: z.enum(VARTYPES),
  context: z.enum(CONTEXTS),
  /** the base unit a bare number is in: B, kB, MB, 8kB (pages), ms, s, min; null when unitless */
  unit: z.string().nullable(),
  /** integer and real: the range, in the base unit */
  min: z.number().optional(),
  max: z.number().optional(),
  /** enum: the values pg_settings lists */
  enumvals: z.array(z.string()).optional(),
  /** enum: values the server also accepts without listing them (on/off spellings, old names) */
  aliases: z.array(z.string()).optional(),
});

const CatalogueSchema = z.strictObject({
  source: z.string(),
  postgres: z.number().int(),
  /** the libraries loaded when it was generated, whose settings (prefix.name) it holds */
  preloaded: z.array(z.string()),
  settings: z.array(SettingSpecSchema),
});

export type SettingSpec = z.infer<typeof SettingSpecSchema>;
export type SettingsCatalogue = z.infer<typeof CatalogueSchema>;

interface Loaded {
  catalogue: SettingsCatalogue;
  /** lowercase name -> spec: names are case-insensitive */
  byName: Map<string, SettingSpec>;
}
let loaded: Loaded | undefined;

function load(): Loaded {
  if (loaded === undefined) {
    const catalogue = CatalogueSchema.parse(data);
    loaded = { catalogue, byName: new Map(catalogue.settings.map((s) => [s.name.toLowerCase(), s])) };
  }
  return loaded;
}

export function settingsCatalogue(): SettingsCatalogue {
  return load().catalogue;
}

/** The setting of that name (any case), or undefined when PostgreSQL 15 has none. */
export function findSetting(name: string): SettingSpec | undefined {
  return load().byName.get(name.toLowerCase());
}

/**
 * When a new value takes effect: postmaster needs a restart, sighup a reload, internal never
 * (read-only); undefined for names the catalogue does not know (extension settings).
 */
export function settingContext(name: string): SettingContext | undefined {
  return findSetting(name)?.context;
}

/** Extension prefixes whose settings the catalogue holds: no other name with the prefix exists. */
export function reservedPrefixes(): string[] {
  return load().catalogue.preloaded;
}
