/**
 * Whether PostgreSQL 15 would accept a config.yml value for a setting, read the way the server
 * reads postgresql.conf (guc.c): booleans by parse_bool, enums by name in any case, integers and
 * reals with units and ranges (number.ts). What is refused here, the server would refuse at
 * start; what the server accepts is never refused here.
 */
import type { SettingSpec } from './catalogue.ts';
import {
  baseUnit,
  parseIntSetting,
  parseRealSetting,
  UNITS,
  type BaseUnit,
  type ParsedNumber,
} from './number.ts';

export type SettingInput = string | number | boolean;

/** The text postgresql.conf carries for a config.yml value (what conf.d/tpa.conf is written with). */
export function settingText(v: SettingInput): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return String(v);
}

export interface ValueProblem {
  message: string;
  hint?: string;
}

export type CheckedValue =
  | { ok: true; /** in the setting's base unit for numbers */ value: boolean | number | string }
  | ({ ok: false } & ValueProblem);

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * parse_bool: true/false/yes/no and any prefix of them, on, of/off, 1, 0; any case; no blanks.
 * A lone "o" is refused (on or off?).
 */
export function parseBool(text: string): boolean | undefined {
  const t = asciiLower(text);
  const prefixOf = (word: string) => t.length > 0 && word.startsWith(t);
  if (prefixOf('true') || prefixOf('yes') || t === 'on' || t === '1') return true;
  if (prefixOf('false') || prefixOf('no') || t === 'of' || t === 'off' || t === '0') return false;
  return undefined;
}

/** The enum value a text names (any case), among the listed values and the hidden aliases. */
export function enumValue(spec: SettingSpec, text: string): string | undefined {
  const t = asciiLower(text);
  return [...(spec.enumvals ?? []), ...(spec.aliases ?? [])].find((v) => asciiLower(v) === t);
}

export function checkSettingValue(spec: SettingSpec, input: SettingInput): CheckedValue {
  const text = settingText(input);
  const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
  switch (spec.vartype) {
    case 'bool': {
      const value = parseBool(text);
      if (value !== undefined) return { ok: true, value };
      return {
        ok: false,
        message: `${shown} is not a boolean`,
        hint: 'use on or off; true/false, yes/no and 1/0 work too',
      };
    }
    case 'enum': {
      const value = enumValue(spec, text);
      if (value !== undefined) return { ok: true, value };
      const listed = (spec.enumvals ?? []).map((v) => JSON.stringify(v)).join(', ');
      return { ok: false, message: `${shown} is not one of ${listed}` };
    }
    case 'integer':
    case 'real':
      return checkNumber(spec, text, shown);
    case 'string':
      return { ok: true, value: text };
  }
}

function checkNumber(spec: SettingSpec, text: string, shown: string): CheckedValue {
  const base = baseUnit(spec.unit);
  const parse = spec.vartype === 'integer' ? parseIntSetting : parseRealSetting;
  const parsed: ParsedNumber = parse(text, base);
  const hint = numberHint(spec, base);
  if (!parsed.ok) {
    if (parsed.problem === 'unitless')
      return { ok: false, message: `${shown} has a unit, but this setting takes none`, hint };
    if (parsed.problem === 'int-range') return { ok: false, message: `${shown} is out of range`, hint };
    return { ok: false, message: `${shown} is not ${whatItTakes(spec, base)}`, hint };
  }
  if (parsed.value < spec.min! || parsed.value > spec.max!) {
    const plain = [String(parsed.value), `${parsed.value}${base?.label}`].includes(text.replace(/\s/g, ''));
    const converted = base && !plain ? ` (${parsed.value} ${countedIn(base)})` : '';
    return { ok: false, message: `${shown}${converted} is out of range`, hint };
  }
  return { ok: true, value: parsed.value };
}

function whatItTakes(spec: SettingSpec, base: BaseUnit | undefined): string {
  if (base?.kind === 'memory') return 'a valid memory size';
  if (base?.kind === 'time') return 'a valid duration';
  return spec.vartype === 'integer' ? 'an integer' : 'a number';
}

const UNIT_WORDS: Record<string, string> = {
  B: 'bytes',
  '8kB': '8kB pages',
  kB: 'kB',
  MB: 'MB',
  us: 'microseconds',
  ms: 'milliseconds',
  s: 'seconds',
  min: 'minutes',
};

function unitWord(base: BaseUnit): string {
  return UNIT_WORDS[base.label] ?? base.label;
}

/** "16 pages", not "16 8kB pages" */
function countedIn(base: BaseUnit): string {
  return base.label === '8kB' ? 'pages' : unitWord(base);
}

/**
 * e.g. "use a number of 8kB pages or a size in B, kB, MB, GB or TB, case-sensitive: 16 to
 * 1073741823 pages, 128kB to ~8TB"
 */
function numberHint(spec: SettingSpec, base: BaseUnit | undefined): string {
  const [min, max] = [spec.min!, spec.max!];
  // reals without a practical maximum show DBL_MAX (1.79769e+308)
  const unbounded = max >= 1e300;
  if (!base) {
    const what = spec.vartype === 'integer' ? 'an integer' : 'a number';
    return unbounded ? `use ${what} of at least ${min}` : `use ${what} from ${min} to ${max}`;
  }
  const units = UNITS[base.kind].map((u) => u.name).reverse();
  const kind = base.kind === 'memory' ? 'size' : 'duration';
  const word = unitWord(base);
  const raw = unbounded ? `at least ${min} ${countedIn(base)}` : `${min} to ${max} ${countedIn(base)}`;
  const human = unbounded
    ? ''
    : min > 0
      ? `, ${humanized(min, base)} to ${humanized(max, base)}`
      : `, up to ${humanized(max, base)}`;
  return `use a number of ${word} or a ${kind} in ${orList(units)}, case-sensitive: ${raw}${human}`;
}

function orList(items: string[]): string {
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** "128kB", "~8TB": a positive amount in its largest whole unit, approximated when not whole. */
function humanized(n: number, base: BaseUnit): string {
  const amount = n * base.size;
  const units = UNITS[base.kind];
  const unit = units.find((u) => amount >= u.size) ?? units.at(-1)!;
  const x = amount / unit.size;
  if (Number.isInteger(x)) return `${x}${unit.name}`;
  return `~${x >= 100 ? Math.round(x) : Number(x.toPrecision(3))}${unit.name}`;
}
