/**
 * Terminal and JSON rendering for the CLI. Colour only on a terminal (and never with NO_COLOR).
 */
import pc from 'picocolors';
import type { EventSink, TpaEvent } from '../core/events.ts';
import { formatIssue, isTpaError, ConfigError, OperationError } from '../core/errors.ts';

const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
export const c = pc.createColors(colour);

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

const statusMark = {
  ok: c.green('ok'),
  changed: c.yellow('changed'),
  failed: c.red('FAILED'),
  skipped: c.dim('skipped'),
};

const formatters: { [K in TpaEvent['kind']]: (e: Extract<TpaEvent, { kind: K }>) => string | null } = {
  'phase-started': (e) =>
    c.bold(`== ${e.phase}`) + (e.hosts?.length ? c.dim(` (${e.hosts.join(', ')})`) : ''),
  'phase-finished': (e) =>
    e.ok
      ? c.dim(`   ${e.phase} done in ${(e.durationMs / 1000).toFixed(1)}s`)
      : c.red(`   ${e.phase} failed`),
  task: (e) =>
    `   ${e.host.padEnd(14)} ${statusMark[e.status]} ${e.task}${e.detail ? c.dim(` — ${e.detail}`) : ''}`,
  output: (e) => (process.env.TPA_VERBOSE ? c.dim(`   ${e.host}| ${e.text.trimEnd()}`) : null),
  info: (e) => `${e.host ? `   ${e.host.padEnd(14)} ` : ''}${e.message}`,
  warning: (e) => c.yellow(`warning: ${e.host ? `${e.host}: ` : ''}${e.message}`),
  done: (e) => (e.ok ? c.green(e.summary) : c.red(e.summary)),
  // TPA_PROFILE=1: where the time of a deploy goes
  timing: (e) =>
    process.env.TPA_PROFILE
      ? c.dim(`   ${(e.host ?? '').padEnd(14)} ${(e.durationMs / 1000).toFixed(2).padStart(6)} s  ${e.what}`)
      : null,
};

/** Human-readable progress on stderr (stdout stays for results), or JSON lines on stdout. */
export function eventSink(json: boolean): EventSink {
  if (json) return (e) => process.stdout.write(JSON.stringify(e) + '\n');
  return (e) => {
    const line = (formatters[e.kind] as (x: TpaEvent) => string | null)(e);
    if (line !== null) process.stderr.write(line + '\n');
  };
}

/** Print an error the way a user needs it; returns the exit code. No stack traces for user errors. */
export function reportError(err: unknown, json: boolean): number {
  if (isTpaError(err)) {
    if (json) {
      printJson({
        ok: false,
        error: err.name,
        message: err.message,
        ...(err.hint ? { hint: err.hint } : {}),
        ...(err instanceof ConfigError ? { issues: err.issues } : {}),
        ...(err instanceof OperationError && err.host ? { host: err.host } : {}),
        ...(err instanceof OperationError && err.step ? { step: err.step } : {}),
      });
    } else {
      if (err instanceof ConfigError) {
        for (const issue of err.issues) process.stderr.write(c.red(formatIssue(issue)) + '\n');
      }
      const where =
        err instanceof OperationError && err.host ? `${err.host}${err.step ? ` [${err.step}]` : ''}: ` : '';
      process.stderr.write(c.red(`error: ${where}${err.message}`) + '\n');
      if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    }
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(c.red(`internal error: ${e.message}`) + '\n');
  if (process.env.TPA_DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
  return 1;
}
