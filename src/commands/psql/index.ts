/**
 * `tpa psql DIR [NODE]`: a psql session on this machine (postgresql-client) as the superuser,
 * over TLS, checked against the group's CA when the directory has it. The password reaches
 * psql in a 0600 password file named by PGPASSFILE, removed when psql exits; never in argv.
 * Without NODE it connects to the node that is the primary now.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperationError, UsageError } from '../../core/errors.ts';
import { PG_PORT, pgPathsFor, ROLES, SECRETS } from '../../components/postgres/paths.ts';
import { TLS_DIR } from '../../components/tls/names.ts';
import { clusterViews } from '../../checks/cluster-view.ts';
import { gatherObservations } from '../../checks/gather.ts';
import { getSecret } from '../../secrets/vault.ts';
import { connectCluster } from '../../clusterdir/connect.ts';
import { inventoryHost } from '../../clusterdir/inventory.ts';

/** A libpq keyword/value connection string; no password in it. */
export function psqlConninfo(address: string, port: number, caFile?: string): string {
  const ssl = caFile
    ? `sslmode=verify-full sslrootcert='${caFile.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
    : 'sslmode=require';
  return `host=${address} port=${port} dbname=postgres user=${ROLES.superuser} ${ssl} application_name=tpa-psql`;
}

/** One line of a libpq password file: `:` and `\` in a field are escaped with `\`. */
export function passfileLine(address: string, port: number, user: string, password: string): string {
  if (/[\r\n]/.test(password))
    throw new OperationError('the password contains a line break: libpq cannot read it from a file');
  const esc = (s: string) => s.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
  return `${esc(address)}:${port}:*:${esc(user)}:${esc(password)}\n`;
}

export interface PsqlPlan {
  node: string;
  address: string;
  conninfo: string;
  /** how the node was chosen */
  chosen: 'given' | 'primary';
  pgVersion: number;
}

/** Which node and how: the one given, else the primary of now (asked of every node). */
export async function planPsql(dir: string, node?: string): Promise<PsqlPlan & { dir: string }> {
  const access = await connectCluster(dir, {
    transport: { connectTimeoutMs: 5000, connectRetries: 0 },
    concurrency: 64,
  });
  try {
    const ca = join(access.dir, TLS_DIR, 'ca.crt');
    const caFile = existsSync(ca) ? ca : undefined;
    let name = node;
    if (name === undefined) {
      const paths = pgPathsFor(access.config);
      const observed = await gatherObservations(access, {
        request: () => ({ paths, services: [], sections: [], packages: [] }),
        timeoutMs: 20_000,
      });
      const primaries = clusterViews(observed).flatMap((v) => v.primaries);
      if (primaries.length !== 1) {
        throw new OperationError(
          primaries.length === 0
            ? 'no node is a primary now'
            : `${primaries.length} nodes are primaries now: ${primaries.join(', ')}`,
          { step: 'psql', hint: `name the node: tpa psql ${dir} NODE (tpa status ${dir} shows them)` },
        );
      }
      name = primaries[0]!;
    }
    const host = inventoryHost(access.inventory, name);
    if (host.kind !== 'postgres')
      throw new UsageError(`${name} is not a postgres node (it is a ${host.role} server)`);
    return {
      dir: access.dir,
      node: name,
      address: host.address,
      conninfo: psqlConninfo(host.address, PG_PORT, caFile),
      chosen: node === undefined ? 'primary' : 'given',
      pgVersion: access.config.postgres.version,
    };
  } finally {
    await access.close();
  }
}

/**
 * Runs psql on this terminal and resolves with its exit code. While it runs, Ctrl-C belongs
 * to psql (it cancels the query), not to tpa.
 */
export async function runPsql(
  dir: string,
  node: string | undefined,
  args: string[],
  onPlan?: (p: PsqlPlan) => void,
): Promise<number> {
  const plan = await planPsql(dir, node);
  onPlan?.(plan);
  const password = await getSecret(plan.dir, SECRETS.postgres);
  const tmp = await mkdtemp(join(tmpdir(), 'tpa-psql-'));
  const passfile = join(tmp, 'pgpass');
  const ignore = () => {};
  try {
    await writeFile(passfile, passfileLine(plan.address, PG_PORT, ROLES.superuser, password), {
      mode: 0o600,
    });
    const env: NodeJS.ProcessEnv = { ...process.env, PGPASSFILE: passfile };
    delete env.PGPASSWORD;
    delete env.PGSERVICE;
    process.on('SIGINT', ignore);
    process.on('SIGQUIT', ignore);
    return await new Promise<number>((resolve, reject) => {
      const child = spawn('psql', ['-d', plan.conninfo, ...args], { stdio: 'inherit', env });
      child.on('error', (e: NodeJS.ErrnoException) => {
        reject(
          new OperationError(
            `cannot run psql: ${e.code === 'ENOENT' ? 'not installed on this machine' : e.message}`,
            {
              step: 'psql',
              hint: `install the client: apt-get install postgresql-client-${plan.pgVersion}`,
            },
          ),
        );
      });
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 1)));
    });
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
    await rm(tmp, { recursive: true, force: true });
  }
}
