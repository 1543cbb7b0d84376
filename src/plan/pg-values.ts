/**
 * Compare a desired postgresql.conf value with what pg_settings reports. pg_settings shows
 * numbers in the setting's base unit (shared_buffers in 8kB pages, timeouts in ms or s), so
 * '1GB' and '131072' can be the same value.
 */

const MEMORY_KB: Record<string, number> = { B: 1 / 1024, kB: 1, MB: 1024, GB: 1024 ** 2, TB: 1024 ** 3 };
const TIME_MS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

export interface SettingFact {
  setting: string;
  unit?: string | null;
  vartype?: string;
}

/** base unit of a pg_settings row, as a factor of kB or ms: '8kB' -> {family:'mem', factor: 8} */
function baseUnit(unit: string | null | undefined): { family: 'mem' | 'time'; factor: number } | null {
  if (!unit) return null;
  const m = /^(\d+)?\s*([a-zA-Z]+)$/.exec(unit.trim());
  if (!m) return null;
  const count = m[1] ? Number(m[1]) : 1;
  const name = m[2] ?? '';
  if (name in MEMORY_KB) return { family: 'mem', factor: count * (MEMORY_KB[name] ?? 1) };
  if (name in TIME_MS) return { family: 'time', factor: count * (TIME_MS[name] ?? 1) };
  return null;
}

/** a desired value like '1GB', '30s', '100' in the setting's base unit; null if not numeric */
export function toBaseUnits(value: string, unit: string | null | undefined): number | null {
  const m = /^\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([a-zA-Z]+)?\s*$/.exec(stripQuotes(value));
  if (!m) return null;
  const n = Number(m[1]);
  const suffix = m[2];
  if (!suffix) return n;
  const base = baseUnit(unit);
  if (!base) return null;
  const table = base.family === 'mem' ? MEMORY_KB : TIME_MS;
  const factor = table[suffix];
  if (factor === undefined) return null;
  return (n * factor) / base.factor;
}

/** a quoted conf-file value loses its quotes; an unquoted one is kept as it is (spaces count in strings) */
function stripQuotes(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  return v;
}

/** enum values the server accepts but reports under another name */
const ENUM_ALIASES: Record<string, Record<string, string>> = {
  wal_compression: {
    on: 'pglz',
    true: 'pglz',
    yes: 'pglz',
    '1': 'pglz',
    false: 'off',
    no: 'off',
    '0': 'off',
  },
  wal_level: { archive: 'replica', hot_standby: 'replica' },
};

function enumMatches(name: string | undefined, want: string, have: string): boolean {
  const w = want.trim().toLowerCase();
  const h = have.toLowerCase();
  if (w === h) return true;
  const alias = name !== undefined ? ENUM_ALIASES[name]?.[w] : undefined;
  if (alias !== undefined) return alias === h;
  // most enums also take the boolean spellings of on and off
  const a = toBool(w);
  return a !== null && a === toBool(h);
}

const TRUE = new Set(['on', 'true', 'yes', '1']);
const FALSE = new Set(['off', 'false', 'no', '0']);

function toBool(v: string): boolean | null {
  const t = stripQuotes(v).trim().toLowerCase();
  if (TRUE.has(t)) return true;
  if (FALSE.has(t)) return false;
  return null;
}

/** true when the running server already has the desired value */
export function settingMatches(desired: string, fact: SettingFact, name?: string): boolean {
  const want = stripQuotes(desired);
  const have = fact.setting;
  if (want === have) return true;
  switch (fact.vartype) {
    case 'bool': {
      const a = toBool(want);
      return a !== null && a === toBool(have);
    }
    case 'enum':
      return enumMatches(name, want, have);
    case 'integer': {
      const n = toBaseUnits(want, fact.unit);
      return n !== null && Math.round(n) === Number(have);
    }
    case 'real': {
      const n = toBaseUnits(want, fact.unit);
      return n !== null && nearlyEqual(n, Number(have));
    }
    case 'string':
      return false;
    default: {
      // vartype unknown: accept any reading under which the two agree
      const b = toBool(want);
      if (b !== null && b === toBool(have)) return true;
      const n = toBaseUnits(want, fact.unit);
      return n !== null && have.trim() !== '' && nearlyEqual(n, Number(have));
    }
  }
}

function nearlyEqual(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** contexts where a changed value needs a server restart; 'internal' cannot be changed at all */
export function needsRestart(context: string): boolean {
  return context === 'postmaster';
}
