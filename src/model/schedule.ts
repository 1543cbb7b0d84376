/**
 * A backup schedule (backup.schedule, a 5-field cron expression) in plain words and its next
 * firing, for `tpa info` and `tpa status`. Pure. The hosts run UTC (common component), so the
 * schedule is read in UTC; cron-parser expands the fields, this module only words the common
 * shapes and falls back to the expression itself for the rest.
 */
import cronParser from 'cron-parser';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function list(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** consecutive runs of numbers as "a to b" where there are three or more in a row */
function ranges(values: number[], name: (n: number) => string): string {
  const out: string[] = [];
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    if (j - i >= 2) out.push(`${name(values[i]!)} to ${name(values[j]!)}`);
    else for (let k = i; k <= j; k++) out.push(name(values[k]!));
    i = j + 1;
  }
  return list(out);
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** a step that spans the whole range from 0, e.g. hours 0,6,12,18 -> 6 */
function evenStep(values: readonly number[], size: number): number | undefined {
  if (values.length < 2 || values[0] !== 0) return undefined;
  const step = values[1]!;
  if (size % step !== 0 || values.length !== size / step) return undefined;
  return values.every((v, i) => v === i * step) ? step : undefined;
}

function timesOfDay(minutes: readonly number[], hours: readonly number[]): string | undefined {
  const everyMinutes = evenStep(minutes, 60);
  if (everyMinutes !== undefined && hours.length === 24)
    return everyMinutes === 1 ? 'every minute' : `every ${everyMinutes} minutes`;
  if (minutes.length !== 1) return undefined;
  const m = minutes[0]!;
  if (hours.length === 24) return `every hour at minute ${m}`;
  const step = evenStep(hours, 24);
  if (step !== undefined) return `every ${step} hours at minute ${m}`;
  if (hours.length > 4) return undefined;
  return `at ${list(hours.map((h) => `${pad(h)}:${pad(m)}`))} UTC`;
}

function whichDays(
  dom: readonly (number | 'L')[],
  months: readonly number[],
  dow: readonly number[],
): string | undefined {
  const allDom = dom.length === 31;
  const weekdays = [...new Set(dow.map((d) => d % 7))].sort((a, b) => a - b);
  const allDow = weekdays.length === 7;
  let days: string;
  if (allDom && allDow) days = 'daily';
  else if (allDom) days = `on ${ranges(weekdays, (d) => DAYS[d]!)}`;
  else if (allDow && dom.every((d) => typeof d === 'number'))
    days = `on the ${list((dom as number[]).map(ordinal))} of the month`;
  // cron fires when either day field matches: too easy to misread in words
  else return undefined;
  if (months.length === 12) return days;
  return `${days} in ${ranges([...months], (m) => MONTHS[m - 1]!)}`;
}

/** e.g. "daily at 02:00 UTC", "every 6 hours at minute 30", "on Sunday at 03:15 UTC" */
export function describeSchedule(expr: string): string {
  const text = expr.trim().split(/\s+/).join(' ');
  let fields: cronParser.CronFields;
  try {
    fields = cronParser.parseExpression(text, { tz: 'UTC' }).fields;
  } catch {
    return `cron "${text}"`;
  }
  const time = timesOfDay(fields.minute, fields.hour);
  const days = whichDays(fields.dayOfMonth, fields.month, fields.dayOfWeek);
  if (time === undefined || days === undefined) return `cron "${text}"`;
  if (days === 'daily') return time.startsWith('every') ? time : `daily ${time}`;
  return time.startsWith('every') ? `${time}, ${days}` : `${days} ${time}`;
}

/** the schedule's next firing after `now` (UTC), undefined for an expression cron rejects */
export function nextRun(expr: string, now: Date): Date | undefined {
  try {
    return cronParser.parseExpression(expr.trim(), { currentDate: now, tz: 'UTC' }).next().toDate();
  } catch {
    return undefined;
  }
}

/** the same schedule, written the way tpa writes it into cron (single spaces) */
export function normalSchedule(expr: string): string {
  return expr.trim().split(/\s+/).join(' ');
}

/** "in 5.2 h", "in 12 min", "in 3.0 days" */
export function durationText(ms: number): string {
  const abs = Math.abs(ms);
  const h = abs / 3_600_000;
  if (h >= 48) return `${(h / 24).toFixed(1)} days`;
  if (h >= 1) return `${h.toFixed(1)} h`;
  if (abs >= 60_000) return `${Math.round(abs / 60_000)} min`;
  return `${Math.round(abs / 1000)} s`;
}
