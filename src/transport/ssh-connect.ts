/**
 * Opening one SSH connection: strict host key checking, a connect timeout that includes the
 * handshake (a frozen host fails fast), and failures sorted into "worth retrying" or not.
 */
import { Client, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { ConnectionError, HostKeyMismatchError, type TpaError } from '../core/errors.ts';
import type { SshTarget } from './transport.ts';

export interface ConnectSettings {
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** shown in the host-key-mismatch hint */
  knownHostsPath: string | undefined;
}

/** One failed attempt: the user-facing error, and whether another attempt makes sense. */
export class ConnectFailure extends Error {
  constructor(
    readonly error: TpaError,
    /** true only when nothing can have run on the host yet and a new attempt may succeed */
    readonly retry: boolean,
    /** the host did not answer in time (frozen, overloaded) */
    readonly timeout = false,
  ) {
    super(error.message);
  }
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return len > 0 && len < 64 && blob.length >= 4 + len
    ? blob.subarray(4, 4 + len).toString('latin1')
    : 'unknown';
}

// The server may hold several host keys; ask first for the type that was recorded, so a
// host that still has it is not mistaken for a changed one.
const HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function preferredAlgorithms(recordedKey: string | undefined): ServerHostKeyAlgorithm[] | undefined {
  if (!recordedKey) return undefined;
  const type = keyTypeOfBlob(Buffer.from(recordedKey, 'base64'));
  const first = (
    type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]
  ) as ServerHostKeyAlgorithm[];
  if (!first.every((a) => HOST_KEY_ALGORITHMS.includes(a))) return undefined;
  return [...first, ...HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}

const RETRYABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);

/** Connect and authenticate once. Resolves with a ready client; rejects with a ConnectFailure. */
export function connectOnce(target: SshTarget, s: ConnectSettings): Promise<Client> {
  const where = `${target.user}@${target.address}:${target.port}`;
  const fail: Fail = (message, hint, retry, timeout = false) =>
    new ConnectFailure(
      new ConnectionError(`${target.host}: cannot connect to ${where}: ${message}`, {
        host: target.host,
        step: 'connect',
        hint,
      }),
      retry,
      timeout,
    );

  return new Promise<Client>((resolve, reject) => {
    const client = new Client();
    let mismatch: { type: string; key: string } | undefined;
    let done = false;
    const settle = (f: ConnectFailure | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(backstop);
      if (f) {
        client.removeAllListeners('ready');
        client.on('error', () => {}); // late errors of an abandoned attempt
        client.destroy();
        reject(f);
      } else {
        resolve(client);
      }
    };
    // ssh2's readyTimeout covers TCP connect, handshake and authentication; this is a backstop.
    const backstop = setTimeout(() => settle(timedOut(fail, s)), s.connectTimeoutMs + 2000);

    const hostVerifier = (blob: Buffer): boolean => {
      const key = blob.toString('base64');
      const type = keyTypeOfBlob(blob);
      if (target.hostKey) {
        if (key === target.hostKey.trim()) return true;
        mismatch = { type, key };
        return false;
      }
      target.onHostKey?.(key, type);
      return true;
    };

    client.on('ready', () => settle(undefined));
    client.on('error', (e: Error & { level?: string; code?: string }) => {
      if (mismatch) {
        const file = s.knownHostsPath ?? 'DIR/known_hosts';
        settle(
          new ConnectFailure(
            new HostKeyMismatchError(
              `${target.host}: the SSH host key of ${target.address}:${target.port} (${mismatch.type}) is not the one recorded when the node was provisioned`,
              {
                host: target.host,
                step: 'connect',
                hint: `if the machine was rebuilt, run \`tpa provision\` again or remove the line for ${target.address} from ${file}; otherwise someone may be intercepting the connection`,
              },
            ),
            false,
          ),
        );
        return;
      }
      settle(classify(e, fail, target, s));
    });
    client.on('close', () =>
      settle(fail('the connection closed before the session was ready', unreachableHint, true)),
    );

    const config: ConnectConfig = {
      host: target.address,
      port: target.port,
      username: target.user,
      privateKey: target.privateKey,
      readyTimeout: s.connectTimeoutMs,
      keepaliveInterval: s.keepaliveIntervalMs,
      keepaliveCountMax: s.keepaliveCountMax,
      hostVerifier,
    };
    const algorithms = preferredAlgorithms(target.hostKey);
    if (algorithms) config.algorithms = { serverHostKey: algorithms };
    try {
      client.connect(config);
    } catch (e) {
      // ssh2 throws synchronously for a key it cannot parse; its message never holds the key
      settle(fail((e as Error).message, 'check the private key file of this cluster directory', false));
    }
  });
}

const frozenHint =
  'the host accepts connections but does not answer: it may be frozen, overloaded or not running sshd';
const unreachableHint = 'check that the machine is running and sshd listens on that address and port';

type Fail = (message: string, hint: string, retry: boolean, timeout?: boolean) => ConnectFailure;

function timedOut(fail: Fail, s: ConnectSettings): ConnectFailure {
  return fail(`no SSH session within ${s.connectTimeoutMs / 1000} s`, frozenHint, false, true);
}

function classify(
  e: Error & { level?: string; code?: string },
  fail: Fail,
  target: SshTarget,
  s: ConnectSettings,
): ConnectFailure {
  switch (e.level) {
    case 'client-timeout':
      return timedOut(fail, s);
    case 'client-authentication':
      return fail(
        `the key was refused for user ${target.user}`,
        `check that the cluster's public key is in ~${target.user}/.ssh/authorized_keys on the host`,
        false,
      );
    case 'client-socket':
      return fail(e.code ?? e.message, unreachableHint, RETRYABLE_SOCKET_CODES.has(e.code ?? ''));
    case 'client-dns':
      return fail(e.message, 'check the address in inventory.json', false);
    case 'protocol':
      // e.g. "Connection lost before handshake": sshd still starting, or MaxStartups reached
      return fail(e.message, unreachableHint, true);
    default:
      return fail(e.message, unreachableHint, false);
  }
}
