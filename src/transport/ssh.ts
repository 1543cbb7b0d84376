/**
 * The SSH transport (ssh2): one connection per host, opened on first use and reused for
 * every command; each command is its own channel. Only connecting is ever retried: once a
 * command may have started it is never sent again.
 */
import type { Client, ClientChannel } from 'ssh2';
import { ConnectionError, OperationError, RemoteCommandError } from '../core/errors.ts';
import type { EventSink } from '../core/events.ts';
import { sh } from '../core/shell.ts';
import { CommandTimeoutError } from './transport.ts';
import type { ExecOptions, ExecResult, SshTarget, Transport, UploadOptions } from './transport.ts';
import { connectOnce, ConnectFailure, type ConnectSettings } from './ssh-connect.ts';
import {
  atomicWriteScript,
  DEFAULT_TIMEOUT_MS,
  MAX_TIMER_MS,
  PIPE_DRAIN_MS,
  redact,
  StreamCollector,
  timeoutHint,
} from './shell.ts';

export interface SshTransportOptions {
  /** TCP connect + handshake + authentication; default 10 s */
  connectTimeoutMs?: number;
  /** default 15 s; the connection is dropped after keepaliveCountMax (default 3) missed answers */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** further attempts after a failed connect (refused, reset, closed early); default 3 */
  connectRetries?: number;
  /** first pause between attempts, doubled each time; default 500 ms */
  retryDelayMs?: number;
  /** also retry when the host did not answer in time (off: a frozen host must fail fast) */
  retryOnTimeout?: boolean;
  /** commands in flight at once on the connection (sshd's MaxSessions is 10); default 8 */
  maxChannels?: number;
  /** named in the hint of a host key mismatch */
  knownHostsPath?: string;
  /** receives a warning for each connect retry */
  events?: EventSink;
}

/** The command never left this machine; safe to send again on a new connection. */
class NotSent extends ConnectionError {
  constructor(cause: ConnectionError) {
    super(cause.message, {
      ...(cause.host !== undefined ? { host: cause.host } : {}),
      ...(cause.step !== undefined ? { step: cause.step } : {}),
    });
  }
}

/** Seconds the remote `timeout` waits after ours before killing: we report first, it cleans up. */
const REMOTE_KILL_GRACE_S = 2;

export class SshTransport implements Transport {
  readonly host: string;
  private readonly settings: ConnectSettings;
  private readonly opts: SshTransportOptions;
  private conn: Promise<Client> | undefined;
  private closed = false;
  private channelsInUse = 0;
  private readonly waiting: (() => void)[] = [];
  private connects = 0;

  constructor(
    private readonly target: SshTarget,
    opts: SshTransportOptions = {},
  ) {
    this.host = target.host;
    this.opts = opts;
    this.settings = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      keepaliveIntervalMs: opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 3,
      knownHostsPath: opts.knownHostsPath,
    };
  }

  /** How many SSH connections this transport has opened (reuse means 1). */
  get connectionCount(): number {
    return this.connects;
  }

  /** Connect now instead of on the first command (e.g. to check reachability). */
  async connect(): Promise<void> {
    await this.connection();
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    await this.acquireChannel();
    try {
      const client = await this.connection();
      try {
        return await this.run(client, command, opts);
      } catch (e) {
        if (!(e instanceof NotSent)) throw e;
        // the cached connection had died unnoticed and nothing was sent: reconnect once
        if (this.conn && (await this.conn.catch(() => undefined)) === client) this.conn = undefined;
        return await this.run(await this.connection(), command, opts);
      }
    } finally {
      this.releaseChannel();
    }
  }

  async upload(path: string, content: string | Buffer, opts: UploadOptions = {}): Promise<void> {
    // Through exec and stdin rather than SFTP: the same path works with sudo, and the
    // content never touches argv or a world-readable temp file.
    await this.exec(atomicWriteScript(path, opts), {
      stdin: content,
      step: `upload ${path}`,
      ...(opts.sudo !== undefined ? { sudo: opts.sudo } : {}),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.conn;
    this.conn = undefined;
    if (!pending) return;
    const client = await pending.catch(() => undefined);
    if (!client) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        client.destroy();
        resolve();
      }, 1000);
      client.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      client.end();
    });
  }

  /** The shell line sent to the host: /bin/sh semantics, a host-side timeout, sudo if asked. */
  remoteCommand(command: string, opts: Pick<ExecOptions, 'sudo' | 'timeoutMs'> = {}): string {
    const timeoutS = Math.ceil((opts.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000) + REMOTE_KILL_GRACE_S;
    // timeout(1) leads its own process group and kills all of it, so nothing outlives us
    const line = sh`timeout -k 5 ${timeoutS} sh -c ${command}`;
    return opts.sudo && this.target.user !== 'root' ? `sudo -n ${line}` : line;
  }

  private connection(): Promise<Client> {
    if (this.closed) {
      return Promise.reject(
        new OperationError(`${this.host}: transport already closed`, { host: this.host }),
      );
    }
    if (!this.conn) {
      const attempt = this.connectWithRetry();
      this.conn = attempt;
      attempt.then(
        (client) => {
          // a dropped connection is reopened by the next command
          client.on('close', () => {
            if (this.conn === attempt) this.conn = undefined;
          });
          client.on('error', () => {});
        },
        () => {
          if (this.conn === attempt) this.conn = undefined;
        },
      );
    }
    return this.conn;
  }

  private async connectWithRetry(): Promise<Client> {
    const retries = this.opts.connectRetries ?? 3;
    let delay = this.opts.retryDelayMs ?? 500;
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await connectOnce(this.target, this.settings);
        this.connects++;
        return client;
      } catch (f) {
        if (!(f instanceof ConnectFailure)) throw f;
        const failure = f;
        const retry = failure.retry || (failure.timeout === true && this.opts.retryOnTimeout === true);
        if (!retry || attempt >= retries || this.closed) throw failure.error;
        this.opts.events?.({
          kind: 'warning',
          host: this.host,
          message: `${failure.error.message}; trying again in ${(delay / 1000).toFixed(1)} s`,
        });
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }

  private run(client: Client, command: string, opts: ExecOptions): Promise<ExecResult> {
    const timeoutMs = Math.min(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, MAX_TIMER_MS);
    const stdout = new StreamCollector(this.host, 'stdout', opts.events, opts.redact);
    const stderr = new StreamCollector(this.host, 'stderr', opts.events, opts.redact);
    const step = opts.step !== undefined ? { step: opts.step } : {};
    const details = (exitCode: number | null, signal: string | null, err: string) => ({
      host: this.host,
      command: redact(command, opts.redact),
      exitCode,
      signal,
      stderr: redact(err, opts.redact),
      ...step,
    });
    const lost = (why: string) =>
      new ConnectionError(`${this.host}: ${why} while running: ${redact(command, opts.redact)}`, {
        host: this.host,
        ...step,
        hint: 'the command may or may not have run; check the host before trying again',
      });

    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let channel: ClientChannel | undefined;
      let exit: { code: number | null; signal: string | null } | undefined;
      let drainTimer: NodeJS.Timeout | undefined;
      const done = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(drainTimer);
        f();
      };
      const timer = setTimeout(() => {
        done(() => {
          // the host-side timeout(1) kills the process group; we only stop waiting
          channel?.close();
          reject(
            new CommandTimeoutError(
              { ...details(null, 'SIGKILL', stderr.finish()), hint: timeoutHint(timeoutMs) },
              timeoutMs,
            ),
          );
        });
      }, timeoutMs);

      const finish = () =>
        done(() => {
          const result: ExecResult = {
            stdout: stdout.finish(),
            stderr: stderr.finish(),
            exitCode: exit?.code ?? null,
            signal: exit?.signal ?? null,
          };
          if (!exit) reject(lost('the connection was lost'));
          else if (opts.check !== false && (result.exitCode !== 0 || result.signal)) {
            reject(new RemoteCommandError(details(result.exitCode, result.signal, result.stderr)));
          } else resolve(result);
        });

      try {
        client.exec(this.remoteCommand(command, opts), (err, ch) => {
          if (err) {
            done(() => reject(lost(`could not start the command (${err.message})`)));
            return;
          }
          channel = ch;
          if (settled) {
            ch.close();
            return;
          }
          ch.on('data', (c: Buffer) => stdout.push(c));
          ch.stderr.on('data', (c: Buffer) => stderr.push(c));
          ch.on('exit', (code: number | null, signal?: string) => {
            exit = { code: code ?? null, signal: signal ?? null };
            // a daemon started by the command may hold the channel open; do not wait for it
            drainTimer = setTimeout(() => {
              ch.close();
              finish();
            }, PIPE_DRAIN_MS);
          });
          ch.on('close', finish);
          ch.on('error', () => {});
          ch.end(opts.stdin ?? '');
        });
      } catch (e) {
        // ssh2 refuses synchronously when the socket is already gone: nothing was sent
        done(() => reject(new NotSent(lost(`could not start the command (${(e as Error).message})`))));
      }
    });
  }

  private async acquireChannel(): Promise<void> {
    const max = this.opts.maxChannels ?? 8;
    while (this.channelsInUse >= max) await new Promise<void>((r) => this.waiting.push(r));
    this.channelsInUse++;
  }

  private releaseChannel(): void {
    this.channelsInUse--;
    this.waiting.shift()?.();
  }
}
