/** Benchmarks append a dated section to bench/results.md: what was measured, on what, how long. */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = fileURLToPath(new URL('../results.md', import.meta.url));

export interface BenchRow {
  step: string;
  /** the measured value; seconds unless `unit` says otherwise */
  seconds: number;
  /** 's' (default), 'x' for a ratio, '%' for a percentage, 'n' for a count */
  unit?: 's' | 'x' | '%' | 'n';
  target?: string;
  note?: string;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: Number(process.hrtime.bigint() - t) / 1e9 };
}

export function machine(): string {
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  return (
    `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
    `node ${process.version}, load average ${load} (other work on the machine slows every step)`
  );
}

function formatValue(r: BenchRow): string {
  const unit = r.unit ?? 's';
  if (unit === 'x') return `${r.seconds.toFixed(2)}x`;
  if (unit === '%') return `${r.seconds.toFixed(1)} %`;
  if (unit === 'n') return String(r.seconds);
  return `${r.seconds.toFixed(1)} s`;
}

export async function appendResults(title: string, rows: BenchRow[], notes: string[] = []): Promise<void> {
  const current = await readFile(RESULTS_FILE, 'utf8').catch(() => '');
  if (!current)
    await writeFile(
      RESULTS_FILE,
      '# Benchmarks\n\nAppended by `npm run bench` (scripts/bench.sh); newest last.\n',
    );
  const when = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const lines = [
    '',
    `## ${when} — ${title}`,
    '',
    `Machine: ${machine()}`,
    '',
    '| step | time | target | note |',
    '| --- | ---: | --- | --- |',
    ...rows.map((r) => `| ${r.step} | ${formatValue(r)} | ${r.target ?? ''} | ${r.note ?? ''} |`),
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
    '',
  ];
  await appendFile(RESULTS_FILE, lines.join('\n'));
}
