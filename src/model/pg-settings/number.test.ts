import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUnit, parseIntSetting, parseRealSetting, rint } from './number.ts';

const int = (text: string, unit: string | null = null) => parseIntSetting(text, baseUnit(unit));
const real = (text: string, unit: string | null = null) => parseRealSetting(text, baseUnit(unit));
const value = (r: ReturnType<typeof int>) => (r.ok ? r.value : r.problem);

void test('base units: what one bare number means', () => {
  assert.deepEqual(baseUnit('8kB'), { kind: 'memory', size: 8192, label: '8kB' });
  assert.deepEqual(baseUnit('min'), { kind: 'time', size: 60_000_000, label: 'min' });
  assert.equal(baseUnit(null), undefined);
  assert.throws(() => baseUnit('furlong'), /unknown base unit/);
});

void test('rint rounds half to even, like C', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6].map(rint), [0, 2, 2, -0, -2, -2, 2, 3]);
});

void test('integers: decimal, 0x hex and leading-0 octal (strtol base 0), blanks around, a sign', () => {
  assert.equal(value(int('42')), 42);
  assert.equal(value(int('0x1F')), 31);
  assert.equal(value(int('0X1f')), 31);
  assert.equal(value(int('0777')), 511);
  assert.equal(value(int('010')), 8);
  // 8 is no octal digit: "0" then garbage
  assert.equal(value(int('08')), 'syntax');
  assert.equal(value(int(' -3 ')), -3);
  assert.equal(value(int('+3')), 3);
  assert.equal(value(int('0x')), 'syntax');
  assert.equal(value(int('')), 'syntax');
  assert.equal(value(int('lots')), 'syntax');
  // strtol finds no digits after the sign and leaves the whole text: strtod is never asked
  assert.equal(value(int('-.5')), 'syntax');
});

void test('integers: fractions and exponents go through strtod and are rounded half to even', () => {
  assert.equal(value(int('2.5')), 2);
  assert.equal(value(int('3.5')), 4);
  assert.equal(value(int('.5')), 0);
  assert.equal(value(int('1e3')), 1000);
  assert.equal(value(int('1.5e1')), 15);
  assert.equal(value(int('2e')), 'syntax');
  assert.equal(value(int('2147483647')), 2147483647);
  assert.equal(value(int('2147483648')), 'int-range');
  assert.equal(value(int('-2147483649')), 'int-range');
  assert.equal(value(int('99999999999999999999')), 'int-range');
});

void test('integers with units: converted to the base unit, case-sensitive, one unit only', () => {
  assert.equal(value(int('128MB', '8kB')), 16384);
  assert.equal(value(int('128 MB', '8kB')), 16384);
  assert.equal(value(int('1GB ', 'kB')), 1048576);
  assert.equal(value(int('1TB', 'MB')), 1048576);
  assert.equal(value(int('1024B', 'kB')), 1);
  assert.equal(value(int('128mb', '8kB')), 'unit');
  assert.equal(value(int('128MiB', '8kB')), 'unit');
  assert.equal(value(int('1 GB x', '8kB')), 'unit');
  assert.equal(value(int('10s', 'kB')), 'unit');
  assert.equal(value(int('10MB', null)), 'unitless');
  assert.equal(value(int('10 xB', null)), 'syntax');
  assert.equal(value(int('15min', 's')), 900);
  assert.equal(value(int('1d', 'ms')), 86_400_000);
  assert.equal(value(int('1500us', 'ms')), 2);
  assert.equal(value(int('90s', 'min')), 2);
  assert.equal(value(int('150s', 'min')), 2);
  assert.equal(value(int('1sec', 's')), 'unit');
  assert.equal(value(int('25d', 'ms')), 'int-range');
});

void test('integers with units: a fraction is first rounded to the next smaller unit (guc.c)', () => {
  // 0.019921875MB = 20.4kB -> 20kB = 2.5 pages -> 2; rounding once would give 2.55 -> 3
  assert.equal(value(int('0.019921875MB', '8kB')), 2);
  assert.equal(value(int('1.5kB', '8kB')), 0);
  assert.equal(value(int('2.5kB', 'kB')), 2);
  assert.equal(value(int('29999ms', 's')), 30);
  assert.equal(value(int('29499ms', 's')), 29);
});

void test('reals: strtod (hex floats too), units where the setting has one', () => {
  assert.equal(value(real('0.9')), 0.9);
  assert.equal(value(real('.5')), 0.5);
  assert.equal(value(real('0x1p-1')), 0.5);
  assert.equal(value(real('0x10')), 16);
  assert.equal(value(real('1e308')), 1e308);
  assert.equal(value(real('1e309')), 'syntax');
  assert.equal(value(real('1e-400')), 'syntax');
  assert.equal(value(real('nan')), 'syntax');
  assert.equal(value(real('inf')), 'syntax');
  assert.equal(value(real('0.9x')), 'syntax');
  assert.equal(value(real('1ms')), 'unitless');
  assert.equal(value(real('500us', 'ms')), 0.5);
  assert.equal(value(real('0.1s', 'ms')), 100);
  assert.equal(value(real('1MB', 'ms')), 'unit');
});
