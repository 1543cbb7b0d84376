import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSchedule, durationText, nextRun, normalSchedule } from './schedule.ts';

void test('common schedules in plain words (UTC)', () => {
  const cases: [string, string][] = [
    ['0 2 * * *', 'daily at 02:00 UTC'],
    ['30  3 * * *', 'daily at 03:30 UTC'],
    ['30 */6 * * *', 'every 6 hours at minute 30'],
    ['0 * * * *', 'every hour at minute 0'],
    ['*/15 * * * *', 'every 15 minutes'],
    ['* * * * *', 'every minute'],
    ['0 2 * * 0', 'on Sunday at 02:00 UTC'],
    ['15 3 * * 7', 'on Sunday at 03:15 UTC'],
    ['0 2,14 * * 1-5', 'on Monday to Friday at 02:00 and 14:00 UTC'],
    ['0 2 1 * *', 'on the 1st of the month at 02:00 UTC'],
    ['0 2 1,15,22 * *', 'on the 1st, 15th and 22nd of the month at 02:00 UTC'],
    ['0 2 * 1,7 *', 'daily in January and July at 02:00 UTC'],
    ['0 */4 * * 6', 'every 4 hours at minute 0, on Saturday'],
  ];
  for (const [expr, words] of cases) assert.equal(describeSchedule(expr), words, expr);
});

void test('shapes that read ambiguously stay as the expression', () => {
  // cron fires when the day of month OR the weekday matches
  assert.equal(describeSchedule('0 2 1 * 1'), 'cron "0 2 1 * 1"');
  assert.equal(describeSchedule('0 2 L * *'), 'cron "0 2 L * *"');
  assert.equal(describeSchedule('5,10 2 * * *'), 'cron "5,10 2 * * *"');
  assert.equal(describeSchedule('not a schedule'), 'cron "not a schedule"');
});

void test('next run: the following firing in UTC', () => {
  const now = new Date('2026-11-22T19:00:00Z');
  assert.equal(nextRun('0 2 * * *', now)?.toISOString(), '2026-11-23T02:00:00.000Z');
  assert.equal(nextRun('0 2 * * 0', now)?.toISOString(), '2026-11-29T02:00:00.000Z');
  assert.equal(nextRun('30 */6 * * *', now)?.toISOString(), '2026-11-23T00:30:00.000Z');
  assert.equal(nextRun('nonsense', now), undefined);
});

void test('schedules compare as cron reads them; durations read as people do', () => {
  assert.equal(normalSchedule(' 0  2 * *   * '), '0 2 * * *');
  assert.equal(durationText(7 * 3_600_000), '7.0 h');
  assert.equal(durationText(3 * 86_400_000), '3.0 days');
  assert.equal(durationText(12 * 60_000), '12 min');
  assert.equal(durationText(-40_000), '40 s');
});
