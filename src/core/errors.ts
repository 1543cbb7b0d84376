/**
 * Typed errors. Every error a user can see says where (file/line/field or host/step),
 * what happened, and what to do next. Exit codes: 1 operation failed, 2 bad input.
 */

export interface ConfigIssue {
  file: string;
  line?: number;
  col?: number;
  /** dot path of the field, e.g. `clusters.0.nodes.1.upstream` */
  path: string;
  message: string;
  hint?: string;
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}:${i.col ?? 1}` : i.file;
  const field = i.path ? ` ${i.path}:` : '';
  const hint = i.hint ? ` (${i.hint})` : '';
  return `${where}${field} ${i.message}${hint}`;
}

export abstract class TpaError extends Error {
  abstract readonly exitCode: 1 | 2;
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** Bad input: a command-line usage error, a missing directory, a wrong argument. */
export class UsageError extends TpaError {
  readonly exitCode = 2;
}

/** config.yml is not valid; carries every problem found, not just the first. */
export class ConfigError extends TpaError {
  readonly exitCode = 2;
  constructor(
    readonly issues: ConfigIssue[],
    message = `${issues.length} problem${issues.length === 1 ? '' : 's'} in the configuration`,
  ) {
    super(message);
  }
}

/** An operation failed at run time (a host, a step). */
export class OperationError extends TpaError {
  readonly exitCode = 1;
  readonly host: string | undefined;
  readonly step: string | undefined;
  constructor(message: string, opts: { host?: string; step?: string; hint?: string } = {}) {
    super(message, opts.hint);
    this.host = opts.host;
    this.step = opts.step;
  }
}

/** A command on a host exited non-zero or was killed. stderr is already redacted. */
export class RemoteCommandError extends OperationError {
  constructor(
    readonly details: {
      host: string;
      command: string;
      exitCode: number | null;
      signal?: string | null;
      stderr: string;
      step?: string;
      hint?: string;
    },
  ) {
    const status = details.signal ? `killed by ${details.signal}` : `exit code ${details.exitCode}`;
    const tail = details.stderr.trim().split('\n').slice(-15).join('\n');
    super(`${details.host}: command failed (${status}): ${details.command}${tail ? `\n${tail}` : ''}`, {
      host: details.host,
      ...(details.step !== undefined ? { step: details.step } : {}),
      ...(details.hint !== undefined ? { hint: details.hint } : {}),
    });
  }
}

/** Could not reach a host (connect/handshake/timeout). Safe to retry. */
export class ConnectionError extends OperationError {}

/** A host presented an SSH host key different from the one recorded at provision time. */
export class HostKeyMismatchError extends OperationError {}

export function isTpaError(e: unknown): e is TpaError {
  return e instanceof TpaError;
}
