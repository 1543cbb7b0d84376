/**
 * Commands the lxc platform runs on this machine (lxc-*, ip, nft, apt-get), through a
 * LocalTransport, with errors that name the node and the step they belong to.
 */
import { OperationError, RemoteCommandError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { LocalTransport } from '../../transport/local.ts';
import type { ExecOptions, Transport } from '../../transport/transport.ts';

export class HostShell {
  constructor(
    readonly local: Transport = new LocalTransport({ host: 'localhost' }),
    readonly events?: EventSink,
  ) {}

  /** Run a command; its stdout. A failure becomes an OperationError naming node and step. */
  async run(
    command: string,
    where: { step: string; node?: string; hint?: string },
    opts: Omit<ExecOptions, 'step' | 'check'> = {},
  ): Promise<string> {
    try {
      return (await this.local.exec(command, { timeoutMs: 120_000, ...opts, step: where.step })).stdout;
    } catch (e) {
      throw failure(e, where);
    }
  }

  /** Run a command whose failure is an answer (exit code), not an error. */
  async test(
    command: string,
    opts: Omit<ExecOptions, 'check'> = {},
  ): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    const r = await this.local.exec(command, { timeoutMs: 60_000, ...opts, check: false });
    return { ok: r.exitCode === 0, stdout: r.stdout, stderr: r.stderr };
  }
}

/** Turns a failed command into an error that says which node and step it belongs to. */
export function failure(e: unknown, where: { step: string; node?: string; hint?: string }): OperationError {
  if (e instanceof OperationError && !(e instanceof RemoteCommandError)) {
    if (e.host !== undefined || where.node === undefined) return e;
    const hint = e.hint ?? where.hint;
    return new OperationError(`${where.node}: ${e.message}`, {
      host: where.node,
      step: e.step ?? where.step,
      ...(hint !== undefined ? { hint } : {}),
    });
  }
  let why: string;
  if (e instanceof RemoteCommandError) {
    const err = e.details.stderr.trim().split('\n').slice(-6).join('\n');
    why = `${e.details.command.split('\n')[0]}: ${err || `exit code ${e.details.exitCode ?? e.details.signal}`}`;
  } else {
    why = e instanceof Error ? e.message : String(e);
  }
  return new OperationError(`${where.node ? `${where.node}: ` : ''}${where.step} failed: ${why}`, {
    ...(where.node !== undefined ? { host: where.node } : {}),
    step: where.step,
    ...(where.hint !== undefined ? { hint: where.hint } : {}),
  });
}
