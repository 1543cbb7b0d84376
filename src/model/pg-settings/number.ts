/**
 * Numbers as PostgreSQL 15 reads integer and real settings (guc.c parse_int, parse_real,
 * convert_to_base_unit): C's strtol (base 0: 0x hex, leading-0 octal) falling back to strtod
 * for fractions and exponents, an optional unit converted to the setting's base unit, and
 * integers rounded half to even (rint). Matching it exactly is what lets `tpa validate` refuse
 * only what the server would refuse; scripts/pg-settings.test.ts checks it against the server.
 */

export type UnitKind = 'memory' | 'time';

export interface UnitDef {
  name: string;
  /** bytes, or microseconds */
  size: number;
}

// largest first: a fractional value is rounded to a whole number of the next unit down
export const UNITS: Record<UnitKind, UnitDef[]> = {
  memory: [
    { name: 'TB', size: 1024 ** 4 },
    { name: 'GB', size: 1024 ** 3 },
    { name: 'MB', size: 1024 ** 2 },
    { name: 'kB', size: 1024 },
    { name: 'B', size: 1 },
  ],
  time: [
    { name: 'd', size: 86_400_000_000 },
    { name: 'h', size: 3_600_000_000 },
    { name: 'min', size: 60_000_000 },
    { name: 's', size: 1_000_000 },
    { name: 'ms', size: 1000 },
    { name: 'us', size: 1 },
  ],
};

/** A setting's base unit as pg_settings shows it: B, kB, MB, 8kB (pages), ms, s, min. */
export interface BaseUnit {
  kind: UnitKind;
  /** bytes, or microseconds */
  size: number;
  label: string;
}

export function baseUnit(label: string | null): BaseUnit | undefined {
  if (label === null) return undefined;
  const m = /^(\d*)(B|kB|MB|GB|TB|us|ms|s|min|h|d)$/.exec(label);
  if (!m) throw new Error(`unknown base unit ${label} in the settings catalogue`);
  const kind: UnitKind = ['us', 'ms', 's', 'min', 'h', 'd'].includes(m[2]!) ? 'time' : 'memory';
  const unit = UNITS[kind].find((u) => u.name === m[2])!;
  return { kind, size: (m[1] ? Number(m[1]) : 1) * unit.size, label };
}

export type NumberProblem = 'syntax' | 'unit' | 'unitless' | 'int-range';

export type ParsedNumber = { ok: true; value: number } | { ok: false; problem: NumberProblem };

const SPACE = /[ \t\n\v\f\r]/;
const MAX_LONG = 2n ** 63n - 1n;

/** glibc strtol(s, &end, 0); `overflow` is its ERANGE. */
function strtol(s: string): { value: number; end: number; overflow: boolean } {
  let i = 0;
  while (i < s.length && SPACE.test(s[i]!)) i++;
  const negative = s[i] === '-';
  if (s[i] === '+' || s[i] === '-') i++;
  let digits: RegExp;
  let radix: number;
  if (s[i] === '0' && /[xX]/.test(s[i + 1] ?? '') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
    i += 2;
    [digits, radix] = [/[0-9a-fA-F]/, 16];
  } else if (s[i] === '0') {
    [digits, radix] = [/[0-7]/, 8];
  } else {
    [digits, radix] = [/[0-9]/, 10];
  }
  const start = i;
  while (i < s.length && digits.test(s[i]!)) i++;
  if (i === start) return { value: 0, end: 0, overflow: false };
  let magnitude = 0n;
  for (const c of s.slice(start, i)) magnitude = magnitude * BigInt(radix) + BigInt(parseInt(c, radix));
  const overflow = magnitude > (negative ? MAX_LONG + 1n : MAX_LONG);
  return { value: Number(negative ? -magnitude : magnitude), end: i, overflow };
}

const DECIMAL = /^[ \t\n\v\f\r]*([+-]?)((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;
const HEX = /^[ \t\n\v\f\r]*([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?\d+))?/;
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * glibc strtod(s, &end), decimal and hex; `range` is its ERANGE (overflow, underflow).
 * inf and nan are left out: PostgreSQL refuses them for every setting anyway (out of range, NaN).
 */
function strtod(s: string): { value: number; end: number; range: boolean } {
  const hex = HEX.exec(s);
  const dec = hex ? undefined : DECIMAL.exec(s);
  let magnitude: number;
  let nonzero: boolean;
  if (hex) {
    const [whole, frac = ''] = hex[2]!.split('.');
    const mantissa = BigInt(`0x${whole || '0'}${frac}`);
    magnitude = Number(mantissa) * 2 ** (Number(hex[3] ?? 0) - 4 * frac.length);
    nonzero = mantissa !== 0n;
  } else if (dec) {
    magnitude = Number(dec[2]);
    nonzero = /[1-9]/.test(dec[2]!.split(/[eE]/)[0]!);
  } else {
    return { value: 0, end: 0, range: false };
  }
  const m = (hex ?? dec)!;
  const value = m[1] === '-' ? -magnitude : magnitude;
  const range = !Number.isFinite(value) || (nonzero && Math.abs(value) < MIN_NORMAL);
  return { value, end: m[0].length, range };
}

/** C's rint in the default rounding mode: to nearest, ties to even. */
export function rint(x: number): number {
  if (Math.abs(x % 1) === 0.5) return 2 * Math.round(x / 2);
  return Math.round(x);
}

/** convert_to_base_unit: the unit must be one of the kind's, spelled exactly, with nothing after it. */
function toBaseUnit(value: number, rest: string, base: BaseUnit): number | undefined {
  const name = rest.replace(/[ \t\n\v\f\r]+$/, '');
  if (/[ \t\n\v\f\r]/.test(name) || name.length > 3) return undefined;
  const table = UNITS[base.kind];
  const i = table.findIndex((u) => u.name === name);
  if (i < 0) return undefined;
  const multiplier = (u: UnitDef) => (u.size >= base.size ? u.size / base.size : 1 / (base.size / u.size));
  const converted = value * multiplier(table[i]!);
  const next = table[i + 1];
  return next ? rint(converted / multiplier(next)) * multiplier(next) : converted;
}

/** What follows the number: nothing, or (after optional blanks) a unit the setting accepts. */
function withUnit(value: number, rest: string, base: BaseUnit | undefined): ParsedNumber {
  const unit = rest.replace(/^[ \t\n\v\f\r]+/, '');
  if (unit === '') return { ok: true, value };
  if (base === undefined) {
    const named = [...UNITS.memory, ...UNITS.time].some(
      (u) => u.name === unit.replace(/[ \t\n\v\f\r]+$/, ''),
    );
    return { ok: false, problem: named ? 'unitless' : 'syntax' };
  }
  const converted = toBaseUnit(value, unit, base);
  return converted === undefined ? { ok: false, problem: 'unit' } : { ok: true, value: converted };
}

/** parse_int: the value in the setting's base unit, rounded; not yet checked against min and max. */
export function parseIntSetting(text: string, base: BaseUnit | undefined): ParsedNumber {
  const l = strtol(text);
  let value = l.value;
  let end = l.end;
  let range = false;
  if (/[.eE]/.test(text[end] ?? '') || l.overflow) {
    const d = strtod(text);
    [value, end, range] = [d.value, d.end, d.range];
  }
  if (end === 0 || range) return { ok: false, problem: 'syntax' };
  const parsed = withUnit(value, text.slice(end), base);
  if (!parsed.ok) return parsed;
  const rounded = rint(parsed.value);
  if (rounded > 2147483647 || rounded < -2147483648) return { ok: false, problem: 'int-range' };
  return { ok: true, value: rounded };
}

/** parse_real: the value in the setting's base unit; not yet checked against min and max. */
export function parseRealSetting(text: string, base: BaseUnit | undefined): ParsedNumber {
  const d = strtod(text);
  if (d.end === 0 || d.range) return { ok: false, problem: 'syntax' };
  return withUnit(d.value, text.slice(d.end), base);
}
