/**
 * PostgreSQL 15's settings catalogue, read from a real server: a throwaway cluster in a temp
 * directory, queried in single-user mode (no port, no socket, no running server). Used by
 * scripts/gen-pg-settings.ts to write the catalogue and by its test to check the committed one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SettingSpec, SettingsCatalogue, VarType } from '../src/model/pg-settings/catalogue.ts';

export const PG_BINDIR = '/usr/lib/postgresql/15/bin';
export const REGENERATE = 'node --import tsx scripts/gen-pg-settings.ts';

/** the libraries every tpa node preloads whose settings the catalogue carries */
const PRELOADED = ['pg_stat_statements'];

/**
 * Values an enum may accept without pg_settings listing them (guc.c hides them): the boolean
 * spellings most on/off enums take, and the old names some settings keep. Each is kept for a
 * setting only if the server accepts it there.
 */
const ALIAS_CANDIDATES = [
  'on',
  'off',
  'true',
  'false',
  'yes',
  'no',
  '1',
  '0',
  'debug',
  'archive',
  'hot_standby',
];

export class MissingPostgresError extends Error {
  constructor(bindir: string) {
    super(
      `PostgreSQL 15's server binaries are not in ${bindir}: run scripts/install-host-deps.sh as root (it installs postgresql-15)`,
    );
  }
}

/** A value put to the server: accepted in postgresql.conf, and the value a session then holds. */
export interface Probe {
  name: string;
  value: string;
}

export interface ProbeResult {
  /** ALTER SYSTEM accepted it: postgres would start with it in postgresql.conf */
  accepted: boolean;
  /** pg_settings.setting after set_config, for settings a session may set (user, superuser) */
  setting?: string | null;
}

export interface ScratchServer {
  /** runs SQL statements (one per line) in a single-user backend, giving its log (stderr); files it COPYs land in `dir` */
  run(statements: string[]): Promise<string>;
  dir: string;
  close(): Promise<void>;
}

/** initdb in a fresh temp directory, as a user postgres accepts (nobody when we are root). */
export async function openScratchServer(bindir = PG_BINDIR): Promise<ScratchServer> {
  if (!existsSync(join(bindir, 'initdb')) || !existsSync(join(bindir, 'postgres')))
    throw new MissingPostgresError(bindir);
  const dir = await mkdtemp(join(tmpdir(), 'tpa-pg-settings-'));
  try {
    const as = process.getuid?.() === 0 ? userIds('nobody') : undefined;
    if (as) await chown(dir, as.uid, as.gid);
    const data = join(dir, 'data');
    const exec = (cmd: string, args: string[], stdin = '') =>
      execAs(join(bindir, cmd), args, { cwd: dir, stdin, ...(as ?? {}) });
    await exec('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '-N']);
    const options = ['fsync=off', 'lc_messages=C', `shared_preload_libraries=${PRELOADED.join(',')}`];
    return {
      dir,
      run: async (statements) => {
        const bad = statements.find((s) => /[\n\r]/.test(s));
        if (bad !== undefined) throw new Error(`a single-user statement must be one line: ${bad}`);
        const args = ['--single', '-D', data, ...options.flatMap((o) => ['-c', o]), 'postgres'];
        return exec('postgres', args, statements.join('\n') + '\n');
      },
      close: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

function userIds(user: string): { uid: number; gid: number } {
  const id = (flag: string) => {
    const r = spawnSync('id', [flag, user], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`id ${flag} ${user}: ${r.stderr.trim()}`);
    return Number(r.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

function execAs(
  file: string,
  args: string[],
  opts: { cwd: string; stdin: string; uid?: number; gid?: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: { PATH: '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
      stdio: ['pipe', 'ignore', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(stderr)
        : reject(new Error(`${file} ${args.join(' ')} exited ${code}:\n${stderr}`)),
    );
    child.stdin.end(opts.stdin);
  });
}

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** COPY's text format escapes backslashes and control characters; one row per line. */
function copyRows(text: string): string[] {
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v' };
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/\\(.)/g, (_, c: string) => escapes[c] ?? c));
}

async function copyOut<T>(server: ScratchServer, file: string, statements: string[]): Promise<T[]> {
  const path = join(server.dir, file);
  const log = await server.run(statements.map((s) => s.replace('$OUT', () => literal(path))));
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new Error(`the single-user backend wrote no ${file}:\n${log}`);
    throw e;
  });
  return copyRows(text).map((row) => JSON.parse(row) as T);
}

interface PgSettingsRow {
  name: string;
  vartype: VarType;
  context: SettingSpec['context'];
  unit: string | null;
  min_val: string | null;
  max_val: string | null;
  enumvals: string[] | null;
}

/** Every setting's shape (no values: they depend on the host), enum aliases included. */
export async function readCatalogue(server: ScratchServer): Promise<SettingsCatalogue> {
  const rows = await copyOut<PgSettingsRow>(server, 'settings.json', [
    `COPY (SELECT row_to_json(s) FROM (SELECT name, vartype, context, unit, min_val, max_val, enumvals FROM pg_settings) s) TO $OUT`,
  ]);
  const settings = rows
    .map((r): SettingSpec => {
      const numeric = r.vartype === 'integer' || r.vartype === 'real';
      return {
        name: r.name,
        vartype: r.vartype,
        context: r.context,
        unit: r.unit,
        ...(numeric ? { min: Number(r.min_val), max: Number(r.max_val) } : {}),
        ...(r.vartype === 'enum' ? { enumvals: r.enumvals ?? [], aliases: [] } : {}),
      };
    })
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));

  const probes: (Probe & { spec: SettingSpec })[] = [];
  for (const spec of settings) {
    if (spec.vartype !== 'enum' || spec.context === 'internal') continue;
    const listed = new Set(spec.enumvals!.map((v) => v.toLowerCase()));
    for (const value of ALIAS_CANDIDATES)
      if (!listed.has(value)) probes.push({ name: spec.name, value, spec });
  }
  const results = await probeValues(server, probes, { session: false });
  probes.forEach((p, i) => {
    if (results[i]!.accepted) p.spec.aliases!.push(p.value);
  });
  return {
    source: `pg_settings of Debian's PostgreSQL 15 with ${PRELOADED.join(', ')} preloaded; regenerate with: ${REGENERATE}`,
    postgres: 15,
    preloaded: PRELOADED,
    settings,
  };
}

/**
 * Puts each value to the server: ALTER SYSTEM checks it as the startup would check
 * postgresql.conf (parse, range, check hook) without applying it; with `session`, set_config
 * then shows what it converts to, for the settings a session may change.
 */
export async function probeValues(
  server: ScratchServer,
  probes: Probe[],
  opts: { session: boolean },
): Promise<ProbeResult[]> {
  const statements = ['CREATE TEMP TABLE probe (i int PRIMARY KEY, accepted bool, setting text)'];
  probes.forEach(({ name, value }, i) => {
    statements.push(
      'ALTER SYSTEM RESET ALL',
      `ALTER SYSTEM SET ${ident(name)} = ${literal(value)}`,
      // a line that is no comment: the value went in (pg_file_settings would parse postgresql.conf too, 5x slower)
      `INSERT INTO probe VALUES (${i}, pg_read_file('postgresql.auto.conf') ~ '(^|\\n)[^#\\n]', NULL)`,
    );
    if (!opts.session) return;
    // set for this transaction only, so no probe changes how the next statements run; a value
    // set_config refuses leaves the row's setting NULL
    statements.push(
      `DO $probe$BEGIN IF (SELECT context IN ('user', 'superuser') FROM pg_settings WHERE lower(name) = lower(${literal(name)})) THEN ` +
        `PERFORM set_config(${literal(name)}, ${literal(value)}, true); ` +
        `UPDATE probe SET setting = (SELECT setting FROM pg_settings WHERE lower(name) = lower(${literal(name)})) WHERE i = ${i}; ` +
        `END IF; EXCEPTION WHEN others THEN NULL; END$probe$`,
    );
  });
  statements.push('ALTER SYSTEM RESET ALL');
  statements.push('COPY (SELECT row_to_json(p) FROM probe p ORDER BY i) TO $OUT');
  const rows = await copyOut<{ i: number; accepted: boolean; setting: string | null }>(
    server,
    'probes.json',
    statements,
  );
  if (rows.length !== probes.length) throw new Error(`${probes.length} probes, ${rows.length} answers`);
  return rows.map((r) => ({ accepted: r.accepted, ...(opts.session ? { setting: r.setting } : {}) }));
}

export async function generateCatalogue(bindir = PG_BINDIR): Promise<SettingsCatalogue> {
  const server = await openScratchServer(bindir);
  try {
    return await readCatalogue(server);
  } finally {
    await server.close();
  }
}

/** One line per difference, by setting name: what the committed file says, what the server says. */
export function catalogueDiff(committed: SettingsCatalogue, generated: SettingsCatalogue): string[] {
  const out: string[] = [];
  for (const key of ['source', 'postgres', 'preloaded'] as const) {
    if (JSON.stringify(committed[key]) !== JSON.stringify(generated[key]))
      out.push(`${key}: ${JSON.stringify(committed[key])} committed, ${JSON.stringify(generated[key])} here`);
  }
  const here = new Map(generated.settings.map((s) => [s.name, s]));
  const there = new Map(committed.settings.map((s) => [s.name, s]));
  for (const [name, c] of there) {
    const g = here.get(name);
    if (g === undefined) {
      out.push(`${name}: in the committed file, not in pg_settings`);
      continue;
    }
    const fields = new Set([...Object.keys(c), ...Object.keys(g)]) as Set<keyof SettingSpec>;
    for (const f of fields) {
      if (JSON.stringify(c[f]) !== JSON.stringify(g[f]))
        out.push(`${name}: ${f} ${JSON.stringify(c[f])} committed, ${JSON.stringify(g[f])} here`);
    }
  }
  for (const name of here.keys())
    if (!there.has(name)) out.push(`${name}: in pg_settings, not in the committed file`);
  const order = (cat: SettingsCatalogue) => cat.settings.map((s) => s.name).join(' ');
  if (out.length === 0 && order(committed) !== order(generated))
    out.push('settings: same entries in another order');
  return out;
}
