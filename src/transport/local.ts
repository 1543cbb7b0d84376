/**
 * Runs commands on this machine: the platform's own commands (lxc-*, ip, nft) and tests.
 * Same contract as the SSH transport, so code above does not care where a host is.
 */
import { spawn } from 'node:child_process';
import { OperationError, RemoteCommandError } from '../core/errors.ts';
import { CommandTimeoutError } from './transport.ts';
import type { ExecOptions, ExecResult, Transport, UploadOptions } from './transport.ts';
import {
  atomicWriteScript,
  DEFAULT_TIMEOUT_MS,
  MAX_TIMER_MS,
  PIPE_DRAIN_MS,
  redact,
  StreamCollector,
  sudoWrap,
  timeoutHint,
} from './shell.ts';

export interface LocalTransportOptions {
  /** the name used in errors and events; default `localhost` */
  host?: string;
  /** extra environment for every command */
  env?: Record<string, string>;
}

export class LocalTransport implements Transport {
  readonly host: string;
  private readonly env: Record<string, string> | undefined;
  private readonly isRoot = process.getuid?.() === 0;

  constructor(opts: LocalTransportOptions = {}) {
    this.host = opts.host ?? 'localhost';
    this.env = opts.env;
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const script = opts.sudo && !this.isRoot ? sudoWrap(command) : command;
    const timeoutMs = Math.min(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, MAX_TIMER_MS);
    const stdout = new StreamCollector(this.host, 'stdout', opts.events, opts.redact);
    const stderr = new StreamCollector(this.host, 'stderr', opts.events, opts.redact);
    const details = (exitCode: number | null, signal: string | null, err: string) => ({
      host: this.host,
      command: redact(command, opts.redact),
      exitCode,
      signal,
      stderr: redact(err, opts.redact),
      ...(opts.step !== undefined ? { step: opts.step } : {}),
    });

    return new Promise<ExecResult>((resolve, reject) => {
      // detached: the command leads its own process group, so a timeout kills its children too
      const child = spawn('/bin/sh', ['-c', script], {
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: this.env ? { ...process.env, ...this.env } : process.env,
      });
      let timedOut = false;
      let exit: { code: number | null; signal: string | null } | undefined;
      let drainTimer: NodeJS.Timeout | undefined;
      let settled = false;

      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutMs);

      const finish = () => {
        if (settled || !exit) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(drainTimer);
        child.stdout.destroy();
        child.stderr.destroy();
        const result: ExecResult = {
          stdout: stdout.finish(),
          stderr: stderr.finish(),
          exitCode: exit.code,
          signal: exit.signal,
        };
        if (timedOut) {
          reject(
            new CommandTimeoutError(
              { ...details(null, 'SIGKILL', result.stderr), hint: timeoutHint(timeoutMs) },
              timeoutMs,
            ),
          );
        } else if (opts.check !== false && (result.exitCode !== 0 || result.signal)) {
          reject(new RemoteCommandError(details(result.exitCode, result.signal, result.stderr)));
        } else {
          resolve(result);
        }
      };

      child.stdout.on('data', (c: Buffer) => stdout.push(c));
      child.stderr.on('data', (c: Buffer) => stderr.push(c));
      // a command that does not read its stdin closes the pipe early; that is not an error
      child.stdin.on('error', () => {});
      child.on('error', (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(
          new OperationError(`${this.host}: could not run a command: ${e.message}`, {
            host: this.host,
            ...(opts.step !== undefined ? { step: opts.step } : {}),
          }),
        );
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        // a daemon started by the command may keep our pipes open; do not wait for it forever
        drainTimer = setTimeout(finish, PIPE_DRAIN_MS);
      });
      child.on('close', () => finish());
      child.stdin.end(opts.stdin ?? '');
    });
  }

  async upload(path: string, content: string | Buffer, opts: UploadOptions = {}): Promise<void> {
    await this.exec(atomicWriteScript(path, opts), {
      stdin: content,
      step: `upload ${path}`,
      ...(opts.sudo !== undefined ? { sudo: opts.sudo } : {}),
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
