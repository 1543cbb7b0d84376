/**
 * One shell script per host gathers every fact the plan needs in a single round trip. It is
 * fed to `sh -s` on stdin and prints one tagged, tab-separated line per fact; anything
 * free-form (file content, probe output) is base64, and postgres answers in JSON. Paths and
 * names are referred to by index, so the output never needs unquoting. Both the script
 * builder and the parser are pure.
 */
import { raw, sh } from '../core/shell.ts';
import { psqlAsPostgres } from '../components/postgres/psql.ts';
import { quoteLiteral } from '../plan/sql.ts';
import { PENDING_HANDLERS_FILE, sha256 } from '../plan/diff.ts';
import type { DesiredHost, HandlerName, HostFacts } from '../plan/types.ts';
import { parallelSnippets } from './parallel-sh.ts';

export interface FactRequest {
  packages: string[];
  /** content: the host may send the current content (small, not secret) when its sha256 differs */
  files: { path: string; sha256: string; content: boolean }[];
  directories: string[];
  services: string[];
  /** pg_settings rows to read when postgres answers */
  settings: string[];
  /** name -> shell command */
  probes: Record<string, string>;
}

export const MAX_CONTENT_BYTES = 64 * 1024;

export function emptyRequest(): FactRequest {
  return { packages: [], files: [], directories: [], services: [], settings: [], probes: {} };
}

/** Everything one host's desired resources refer to, over all phases. */
export function requestFor(desired: DesiredHost, probes: Record<string, string> = {}): FactRequest {
  const req = emptyRequest();
  const seen = new Set<string>();
  const once = (key: string) => !seen.has(key) && (seen.add(key), true);
  for (const { resources } of desired.phases) {
    for (const r of resources) {
      switch (r.kind) {
        case 'package':
          if (once(`p:${r.name}`)) req.packages.push(r.name);
          break;
        case 'file':
          if (once(`f:${r.path}`))
            req.files.push({ path: r.path, sha256: sha256(r.content), content: !r.secret });
          break;
        case 'directory':
          if (once(`d:${r.path}`)) req.directories.push(r.path);
          break;
        case 'service':
          if (once(`s:${r.name}`)) req.services.push(r.name);
          break;
        case 'pg-setting':
          if (once(`g:${r.name}`)) req.settings.push(r.name);
          break;
        default:
          break;
      }
    }
  }
  req.probes = { ...probes };
  return req;
}

/** true when `a` asks for nothing that `b` did not already ask for */
export function requestCovered(a: FactRequest, b: FactRequest): boolean {
  const sub = (x: string[], y: string[]) => x.every((v) => y.includes(v));
  const files = (x: FactRequest['files'], y: FactRequest['files']) =>
    x.every((f) => y.some((g) => g.path === f.path && g.sha256 === f.sha256));
  return (
    sub(a.packages, b.packages) &&
    files(a.files, b.files) &&
    sub(a.directories, b.directories) &&
    sub(a.services, b.services) &&
    sub(a.settings, b.settings) &&
    Object.entries(a.probes).every(([k, v]) => b.probes[k] === v)
  );
}

/**
 * A setting's configured value as pg_settings gives it. A unix-socket session (the facts') shows
 * 0 for the tcp_* settings, which apply to TCP connections only: their value is reset_val.
 */
export const SETTING_VALUE_SQL = "CASE WHEN name LIKE 'tcp\\_%' THEN reset_val ELSE setting END";

function postgresQuery(settings: string[]): string {
  const names = settings.length ? `ARRAY[${settings.map(quoteLiteral).join(', ')}]::text[]` : `'{}'::text[]`;
  return `SELECT json_build_object(
  'version', current_setting('server_version'),
  'inRecovery', pg_is_in_recovery(),
  'dataDirectory', current_setting('data_directory'),
  'systemIdentifier', (SELECT system_identifier::text FROM pg_control_system()),
  'walFile', CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END,
  'settings', (SELECT coalesce(json_object_agg(name, json_build_object(
      'setting', ${SETTING_VALUE_SQL}, 'context', context, 'pendingRestart', pending_restart,
      'unit', unit, 'vartype', vartype, 'sourcefile', sourcefile)), '{}'::json)
    FROM pg_settings WHERE name = ANY(${names})),
  'roles', (SELECT coalesce(json_object_agg(a.rolname, json_build_object(
      'verifier', a.rolpassword, 'SUPERUSER', a.rolsuper, 'CREATEDB', a.rolcreatedb,
      'CREATEROLE', a.rolcreaterole, 'LOGIN', a.rolcanlogin, 'REPLICATION', a.rolreplication,
      'BYPASSRLS', a.rolbypassrls,
      'memberOf', (SELECT coalesce(json_agg(g.rolname ORDER BY g.rolname), '[]'::json)
        FROM pg_auth_members m JOIN pg_authid g ON g.oid = m.roleid WHERE m.member = a.oid))), '{}'::json)
    FROM pg_authid a WHERE a.rolname !~ '^pg_'),
  'databases', (SELECT coalesce(json_object_agg(datname, pg_get_userbyid(datdba)), '{}'::json)
    FROM pg_database WHERE NOT datistemplate),
  'upstream', (SELECT sender_host FROM pg_stat_wal_receiver LIMIT 1)
);`;
}

export function buildFactScript(req: FactRequest): string {
  const lines: string[] = [
    // One compound command: the shell parses all of it before running anything, and
    // nothing inside can read the rest of the script from stdin.
    '{',
    'exec </dev/null',
    'export LC_ALL=C',
    "printf 'TPA-FACTS 1\\n'",
    'r() {',
    '  o=$(sh -c "$2" 2>/dev/null); c=$?',
    '  printf \'R\\t%s\\t%s\\t\' "$1" "$c"; printf \'%s\' "$o" | base64 -w0; echo',
    '}',
  ];
  // every read is independent of the others: they run side by side (parallel-sh.ts)
  const reads: string[] = [];
  if (req.packages.length) {
    reads.push(
      sh`dpkg-query -W -f='P\\t\${Package}\\t\${db:Status-Abbrev}\\t\${Version}\\n' ${req.packages} 2>/dev/null`,
    );
  }
  // one process per kind of read, not per path: on a node a fork costs more than the read
  if (req.files.length) reads.push(filesSnippet(req.files));
  if (req.directories.length)
    reads.push(sh`stat -L --printf 'D\t%n\t%F\t%a\t%U\t%G\n' -- ${req.directories} 2>/dev/null`);
  if (req.services.length) {
    // one block per unit, in the order asked, separated by empty lines
    reads.push(
      sh`printf 'S\t'; systemctl show -p ActiveState -p UnitFileState -- ${req.services} 2>/dev/null | base64 -w0; echo`,
    );
  }
  reads.push(
    [
      // psql itself, not Debian's wrapper (a Perl program that costs more than the query)
      'b=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)',
      '[ -n "$b" ] || b=$(command -v psql)',
      'if id -u postgres >/dev/null 2>&1 && [ -n "$b" ]; then',
      `  o=$(PGCONNECT_TIMEOUT=5 timeout 20 ${psqlAsPostgres({ bin: raw('"$b"'), port: false })} 2>/dev/null <<'TPA_SQL'`,
      postgresQuery(req.settings),
      'TPA_SQL',
      ') && [ -n "$o" ] && printf \'G\\t%s\\n\' "$o"',
      'fi',
    ].join('\n'),
  );
  Object.values(req.probes).forEach((cmd, i) => reads.push(sh`r ${i} ${cmd}`));
  lines.push(...parallelSnippets(reads));
  lines.push(sh`[ -f ${PENDING_HANDLERS_FILE} ] && sed 's/^/H\t/' ${PENDING_HANDLERS_FILE}`);
  lines.push("printf 'END\\n'", '}');
  return lines.join('\n') + '\n';
}

/**
 * Files: their mode and owners with one stat, their sha256 with one sha256sum; the content of a
 * file whose hash differs from the desired one (when it may be sent) follows, base64, cut at
 * MAX_CONTENT_BYTES + 1 so that the parser can tell a file too big to diff.
 */
function filesSnippet(files: FactRequest['files']): string {
  const paths = files.map((f) => f.path);
  const cases = files
    .filter((f) => f.content)
    .map(
      (f) =>
        sh`    ${f.path}) [ "$h" = ${f.sha256} ] || { printf 'C\t%s\t' "$p"; head -c ${MAX_CONTENT_BYTES + 1} "$p" | base64 -w0; echo; } ;;`,
    );
  return [
    sh`stat -L --printf 'M\t%n\t%F\t%a\t%U\t%G\n' -- ${paths} 2>/dev/null`,
    sh`sha256sum -- ${paths} 2>/dev/null | while read -r h p; do`,
    `  printf 'F\t%s\t%s\n' "$p" "$h"`,
    ...(cases.length ? ['  case "$p" in', ...cases, '  esac'] : []),
    'done',
  ].join('\n');
}

export class FactParseError extends Error {}

// 'generated' (a SysV script's unit) is not enabled: a component that ships its own unit file
// replaces it, and the enable must then follow
const ENABLED_STATES = new Set(['enabled', 'enabled-runtime', 'static', 'alias']);

interface PgJson {
  version: string;
  inRecovery: boolean;
  dataDirectory?: string;
  systemIdentifier?: string;
  walFile?: string | null;
  settings: Record<
    string,
    {
      setting: string;
      context: string;
      pendingRestart: boolean;
      unit: string | null;
      vartype: string;
      sourcefile: string | null;
    }
  >;
  roles: Record<string, Record<string, unknown> & { verifier: string | null; memberOf: string[] }>;
  databases: Record<string, string>;
  upstream: string | null;
}

const ROLE_FLAGS = ['SUPERUSER', 'CREATEDB', 'CREATEROLE', 'LOGIN', 'REPLICATION', 'BYPASSRLS'];

export function parseFactOutput(host: string, req: FactRequest, stdout: string): HostFacts {
  const facts: HostFacts = {
    host,
    reachable: true,
    packages: {},
    files: {},
    directories: {},
    services: {},
    probes: {},
    probeExitCodes: {},
  };
  const lines = stdout.split('\n');
  if (lines[0] !== 'TPA-FACTS 1') throw new FactParseError('the fact script did not start');
  if (!lines.includes('END')) throw new FactParseError('the fact script did not finish');
  const probeNames = Object.keys(req.probes);
  const filePaths = new Set(req.files.map((f) => f.path));
  const meta = new Map<string, { mode: number; owner: string; group: string }>();
  const hashes = new Map<string, string>();
  const contents = new Map<string, string>();
  const at = <T>(list: T[], i: string | undefined): T | undefined => list[Number(i)];
  for (const line of lines) {
    const [tag, ...p] = line.split('\t');
    switch (tag) {
      case 'P': {
        const [name, status, version] = p;
        if (name && status?.[1] === 'i' && version !== undefined) facts.packages[name] = version;
        break;
      }
      case 'M': {
        // stat: path, type, mode, owner, group; only regular files count
        const [path, type, mode, owner, group] = p;
        if (path !== undefined && filePaths.has(path) && type?.startsWith('regular'))
          meta.set(path, { mode: parseInt(mode ?? '0', 8), owner: owner ?? '', group: group ?? '' });
        break;
      }
      case 'F': {
        const [path, hash] = p;
        if (path !== undefined && filePaths.has(path)) hashes.set(path, hash ?? '');
        break;
      }
      case 'C': {
        const [path, b64] = p;
        if (path === undefined || !filePaths.has(path)) break;
        const bytes = Buffer.from(b64 ?? '', 'base64');
        const text = bytes.toString('utf8');
        // too big or binary: no readable diff
        if (bytes.length <= MAX_CONTENT_BYTES && !text.includes('\0') && !text.includes('\uFFFD'))
          contents.set(path, text);
        break;
      }
      case 'D': {
        const [path, type, mode, owner, group] = p;
        if (path !== undefined && req.directories.includes(path) && type === 'directory')
          facts.directories[path] = {
            mode: parseInt(mode ?? '0', 8),
            owner: owner ?? '',
            group: group ?? '',
          };
        break;
      }
      case 'S': {
        const blocks = Buffer.from(p[0] ?? '', 'base64')
          .toString('utf8')
          .split(/\n\s*\n/);
        req.services.forEach((name, i) => {
          const props = Object.fromEntries(
            (blocks[i] ?? '')
              .split('\n')
              .filter((l) => l.includes('='))
              .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
          );
          if (props.ActiveState === undefined) return;
          facts.services[name] = {
            active: props.ActiveState === 'active' || props.ActiveState === 'reloading',
            enabled: ENABLED_STATES.has(props.UnitFileState ?? ''),
          };
        });
        break;
      }
      case 'R': {
        const name = at(probeNames, p[0]);
        if (name !== undefined) {
          facts.probes[name] = Buffer.from(p[2] ?? '', 'base64').toString('utf8');
          facts.probeExitCodes![name] = Number(p[1]);
        }
        break;
      }
      case 'G':
        facts.postgres = parsePostgres(p.join('\t'));
        break;
      case 'H': {
        const h = p[0]?.trim() ?? '';
        if (/^(restart|reload):[\w@.:-]+$/.test(h)) {
          facts.pendingHandlers ??= [];
          if (!facts.pendingHandlers.includes(h as HandlerName)) facts.pendingHandlers.push(h as HandlerName);
        }
        break;
      }
      default:
        break;
    }
  }
  for (const [path, m] of meta) {
    const hash = hashes.get(path);
    if (hash === undefined) continue;
    const content = contents.get(path);
    facts.files[path] = { sha256: hash, ...m, ...(content !== undefined ? { content } : {}) };
  }
  return facts;
}

function parsePostgres(json: string): NonNullable<HostFacts['postgres']> {
  let pg: PgJson;
  try {
    pg = JSON.parse(json) as PgJson;
  } catch {
    throw new FactParseError('postgres answered with something that is not JSON');
  }
  const roles: NonNullable<HostFacts['postgres']>['roles'] = {};
  for (const [name, r] of Object.entries(pg.roles ?? {})) {
    roles[name] = {
      verifier: r.verifier ?? null,
      attributes: ROLE_FLAGS.filter((a) => r[a] === true),
      memberOf: r.memberOf ?? [],
    };
  }
  const settings: NonNullable<HostFacts['postgres']>['settings'] = {};
  for (const [name, s] of Object.entries(pg.settings ?? {})) {
    settings[name] = {
      setting: s.setting,
      context: s.context,
      pendingRestart: s.pendingRestart,
      unit: s.unit,
      vartype: s.vartype,
      sourcefile: s.sourcefile,
    };
  }
  return {
    running: true,
    inRecovery: pg.inRecovery,
    version: pg.version,
    settings,
    roles,
    databases: Object.keys(pg.databases ?? {}),
    databaseOwners: pg.databases ?? {},
    upstream: pg.upstream ?? null,
    ...(pg.dataDirectory ? { dataDirectory: pg.dataDirectory } : {}),
    ...(pg.systemIdentifier ? { systemIdentifier: pg.systemIdentifier } : {}),
    ...(pg.walFile ? { walFile: pg.walFile } : {}),
  };
}
