/**
 * A throw-away PostgreSQL server for tests: initdb into a temporary directory as the postgres
 * OS user, listening on 127.0.0.1 and a private socket directory on a free port. Needs root and
 * Debian's postgresql-<v> package. stop() ends the postmaster by its pid and removes the directory.
 */
import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    // a command that exits without reading its stdin must not fail the test with EPIPE
    child.stdin.on('error', () => {});
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function postgresAvailable(version = 15): boolean {
  try {
    execFileSync(`/usr/lib/postgresql/${version}/bin/postgres`, ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

export interface PrivatePostgres {
  dir: string;
  port: number;
  bin: string;
  /** psql as the postgres OS user over the private socket (peer); SQL on stdin */
  psqlAsSuperuser(sql: string, db?: string): Promise<RunResult>;
  /** psql over TCP 127.0.0.1 as `user` with `password` (given through PGPASSWORD, not argv) */
  psqlAs(user: string, password: string, sql: string, extra?: Record<string, string>): Promise<RunResult>;
  stop(): Promise<void>;
}

export interface PrivatePostgresOptions {
  version?: number;
  initdbArgs?: string[];
  /** lines appended to postgresql.conf (port, listen_addresses and the socket directory are set after them) */
  settings?: string[];
  /** replaces pg_hba.conf */
  hba?: string;
  /** runs after initdb and configuration, before the server starts */
  beforeStart?: (dataDir: string) => Promise<void>;
}

export async function startPrivatePostgres(opts: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const bin = `/usr/lib/postgresql/${opts.version ?? 15}/bin`;
  const dir = await mkdtemp(join(tmpdir(), 'tpa-pg-'));
  const data = join(dir, 'data');
  const pgUid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const pgGid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  await chown(dir, pgUid, pgGid);
  await chmod(dir, 0o700);
  const asPostgres = (cmd: string, args: string[], o: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) =>
    run('runuser', ['-u', 'postgres', '--', cmd, ...args], o);

  const init = await asPostgres(`${bin}/initdb`, [
    '-D',
    data,
    '--auth-local=peer',
    '--auth-host=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    ...(opts.initdbArgs ?? []),
  ]);
  if (init.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr}`);
  }
  const port = await freePort();
  // the test's own lines come first: what makes the server private (port, socket) always wins
  const conf = [
    ...(opts.settings ?? []),
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${dir}'`,
  ];
  await writeFile(
    join(data, 'postgresql.conf'),
    `${await readFile(join(data, 'postgresql.conf'), 'utf8')}\n${conf.join('\n')}\n`,
  );
  if (opts.hba !== undefined) await writeFile(join(data, 'pg_hba.conf'), opts.hba);
  try {
    await opts.beforeStart?.(data);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const start = await asPostgres(`${bin}/pg_ctl`, [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-t',
    '60',
    'start',
  ]);
  if (start.code !== 0) {
    const log = await readFile(join(dir, 'log'), 'utf8').catch(() => '');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`postgres did not start: ${start.stderr}\n${log}`);
  }
  const pid = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);

  return {
    dir,
    port,
    bin,
    psqlAsSuperuser: (sql, db = 'postgres') =>
      asPostgres(
        `${bin}/psql`,
        ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-d', db],
        {
          stdin: sql,
        },
      ),
    psqlAs: (user, password, sql, extra = {}) => {
      const conninfo = Object.entries({
        host: '127.0.0.1',
        port: String(port),
        user,
        dbname: 'postgres',
        sslmode: 'disable',
        ...extra,
      })
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      return run(`${bin}/psql`, ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-w', '-d', conninfo], {
        stdin: sql,
        env: { PGPASSWORD: password, PGPASSFILE: '/dev/null' },
      });
    },
    stop: async () => {
      try {
        process.kill(pid, 'SIGINT'); // fast shutdown
      } catch {
        // already gone
      }
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
