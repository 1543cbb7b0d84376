/**
 * The one way tpa touches a host. Implementations: ssh2 (ssh.ts) and local (local.ts).
 * Commands are shell strings run by /bin/sh on the host; secrets go through stdin or
 * uploaded files, never the command line.
 */
import type { EventSink } from '../core/events.ts';
import { RemoteCommandError } from '../core/errors.ts';

export interface ExecOptions {
  /** run as root through sudo when the login user is not root */
  sudo?: boolean;
  /** fed to the command's stdin (how secrets reach a host) */
  stdin?: string | Buffer;
  /** kill the command after this long; default 10 minutes */
  timeoutMs?: number;
  /** throw RemoteCommandError on a non-zero exit (default true) */
  check?: boolean;
  /** strings to replace with *** in anything reported (errors, events) */
  redact?: string[];
  /** stream stdout/stderr as `output` events */
  events?: EventSink;
  /** a short name of the step, carried into errors */
  step?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
}

export interface UploadOptions {
  mode?: number;
  owner?: string;
  group?: string;
  sudo?: boolean;
}

export interface Transport {
  /** the node name, used in errors and events */
  readonly host: string;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  upload(path: string, content: string | Buffer, opts?: UploadOptions): Promise<void>;
  close(): Promise<void>;
}

/** How to reach one host over SSH. */
export interface SshTarget {
  host: string;
  address: string;
  port: number;
  user: string;
  /** the private key itself (OpenSSH or PEM); never a command-line argument */
  privateKey: string | Buffer;
  /**
   * The host key recorded at provision time (base64 of the key blob, as in known_hosts).
   * When set, a different key is a HostKeyMismatchError. When absent, the key is accepted
   * and reported through onHostKey so provision can record it.
   */
  hostKey?: string;
  onHostKey?: (keyBase64: string, keyType: string) => void;
}

/**
 * A command ran longer than ExecOptions.timeoutMs and was killed. Thrown whatever `check`
 * says: a timeout is never an ordinary result.
 */
export class CommandTimeoutError extends RemoteCommandError {
  constructor(
    details: ConstructorParameters<typeof RemoteCommandError>[0],
    readonly timeoutMs: number,
  ) {
    super(details);
  }
}
