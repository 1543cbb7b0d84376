/** What a failed step reports: host, step, and the command's stderr, redacted. */
import { isTpaError, RemoteCommandError } from '../core/errors.ts';
import { redact } from '../transport/shell.ts';

export interface HostFailure {
  host: string;
  step: string;
  message: string;
  stderr?: string;
  /** where each host stands after what was done about the failure (a rollback), one line each */
  standing?: string[];
}

export function errorText(e: unknown, secrets: string[]): string {
  return redact(e instanceof Error ? e.message : String(e), secrets);
}

export function failureOf(host: string, step: string, e: unknown, secrets: string[]): HostFailure {
  if (e instanceof RemoteCommandError) {
    // the command itself may be a long script: the stderr says more
    const d = e.details;
    const status = d.signal ? `killed by ${d.signal}` : `exit code ${d.exitCode}`;
    const stderr = redact(d.stderr, secrets).trim();
    const tail = stderr.split('\n').slice(-15).join('\n');
    return { host, step, message: `command failed (${status})${tail ? `:\n${tail}` : ''}`, stderr };
  }
  return { host, step, message: isTpaError(e) || e instanceof Error ? errorText(e, secrets) : String(e) };
}
