/**
 * A private sshd for tests: its own host key, config, authorized key and log, on 127.0.0.1
 * and a free port, started as our child and stopped by PID. Needs root and openssh-server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshTarget } from '../../src/transport/transport.ts';

const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  readonly address: '127.0.0.1';
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  /** base64 key blob of the server's host key, as in known_hosts */
  readonly hostKey: string;
  readonly hostKeyType: string;
  /** the client's private key (OpenSSH format), authorised for every user */
  readonly clientKey: string;
  readonly clientPublicKey: string;
  /** an SshTarget for this server (user root by default) */
  target(overrides?: Partial<SshTarget>): SshTarget;
  log(): string;
  /** TCP connections sshd accepted so far */
  connections(): number;
  /** successful public key logins so far */
  logins(): number;
  /** kill sshd's per-connection processes: every client sees its connection drop */
  dropConnections(): void;
  stop(): Promise<void>;
}

/** Why the sshd tests cannot run here, or undefined when they can (installs sshd if missing). */
export function sshdSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (the test sshd runs as root)';
  if (!existsSync(SSHD)) {
    const r = spawnSync('apt-get', ['install', '-y', '-qq', 'openssh-server'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: 'ignore',
      timeout: 300_000,
    });
    if (r.status !== 0 || !existsSync(SSHD))
      return 'openssh-server is not installed and could not be installed';
  }
  if (spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error)
    return 'ssh-keygen is missing (openssh-client)';
  return undefined;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function keygen(path: string): { privateKey: string; publicLine: string } {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tpa-test', '-f', path], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
  return { privateKey: readFileSync(path, 'utf8'), publicLine: readFileSync(`${path}.pub`, 'utf8').trim() };
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) if (c.pid !== undefined) killQuietly(c.pid);
});

function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** PIDs descending from `pid` (sshd's per-connection processes and their sessions). */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

export interface TestSshdOptions {
  /** default: a free port */
  port?: number;
  /** more public keys to authorise (e.g. another test sshd's client key) */
  authorize?: string[];
  /** more sshd_config lines */
  extraConfig?: string[];
}

export async function startTestSshd(opts: TestSshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-sshd-'));
  // non-root users read the authorized keys file as themselves
  chmodSync(dir, 0o755);
  const host = keygen(join(dir, 'host_key'));
  const client = keygen(join(dir, 'client_key'));
  const authorized = [client.publicLine, ...(opts.authorize ?? [])];
  writeFileSync(join(dir, 'authorized_keys'), authorized.join('\n') + '\n', { mode: 0o644 });
  const port = opts.port ?? (await freePort());
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'UsePAM no',
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'MaxStartups 100:30:200',
    'MaxSessions 20',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    ...(opts.extraConfig ?? []),
  ];
  writeFileSync(join(dir, 'sshd_config'), config.join('\n') + '\n');
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const logPath = join(dir, 'sshd.log');
  const logFd = openSync(logPath, 'a');
  const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  const count = (re: RegExp) => log().match(re)?.length ?? 0;

  const stop = async () => {
    if (!running.delete(child) || child.pid === undefined) return;
    for (const pid of descendantsOf(child.pid)) killQuietly(pid, 'SIGKILL');
    killQuietly(child.pid);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    killQuietly(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  while (!/Server listening on 127\.0\.0\.1 port/.test(log())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`test sshd did not start:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  const [hostKeyType = '', hostKey = ''] = host.publicLine.split(' ');
  return {
    address: '127.0.0.1',
    port,
    dir,
    pid: child.pid!,
    hostKey,
    hostKeyType,
    clientKey: client.privateKey,
    clientPublicKey: client.publicLine,
    target: (overrides = {}) => ({
      host: 'test-node',
      address: '127.0.0.1',
      port,
      user: 'root',
      privateKey: client.privateKey,
      hostKey,
      ...overrides,
    }),
    log,
    connections: () => count(/Connection from 127\.0\.0\.1 port \d+ on/g),
    logins: () => count(/Accepted publickey for /g),
    dropConnections: () => {
      for (const pid of descendantsOf(child.pid!)) killQuietly(pid, 'SIGKILL');
    },
    stop,
  };
}
