/**
 * What a node looks like right now, as `tpa test`, `tpa status` and `tpa info` need it: one
 * shell script per node (one round trip), printing framed sections, and a pure parser for its
 * output. postgres answers in JSON; everything else is a few plain lines per section.
 *
 * The client section (test only) connects to the node's own pgbouncer and postgres over TCP,
 * the way a client does: the superuser's password arrives on stdin and reaches psql through
 * its environment, never its arguments.
 */
import { raw, sh, type ShellValue } from '../core/shell.ts';
import { PG_PORT, ROLES, type PgPaths } from '../components/postgres/paths.ts';
import { START_GUARD_MARKER, type ObserveSection } from '../components/failover/manager.ts';
import { psqlAsPostgres } from '../components/postgres/psql.ts';
import { MARKER_SETUP_SQL, markerInsertSql } from './markers.ts';

const BEGIN = '@@tpa-begin ';
const END = '@@tpa-end ';
/** a client attempt gives up after this long (pgbouncer may queue a client while its server is down) */
const CLIENT_TIMEOUT_S = 20;

export interface ObserveRequest {
  paths: PgPaths;
  /** systemd units whose state to report */
  services: string[];
  /** the pooler's and the failover manager's own sections (their observeSections()) */
  sections: ObserveSection[];
  /** the node's pooler, when the cluster has one: the client checks go through it too */
  pooler?: { name: string; port: number };
  /** Debian packages whose installed version to report */
  packages: string[];
  /** client checks against this node's own endpoints; needs the superuser's password on stdin */
  client?: { address: string; markerId: string; wrongPassword: string };
}

/** The SQL of the `pg` section: one JSON object. */
export const PG_OBSERVE_SQL = `SELECT json_build_object(
  'inRecovery', pg_is_in_recovery(),
  'version', current_setting('server_version'),
  'lsn', CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
  'receiveLsn', pg_last_wal_receive_lsn(),
  'timeline', CASE WHEN pg_is_in_recovery()
    THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint()))
    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
  'startedAt', pg_postmaster_start_time(),
  'systemId', (SELECT system_identifier::text FROM pg_control_system()),
  'replayDelayS', CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END,
  'walReceiver', (SELECT row_to_json(w) FROM (SELECT status, sender_host AS "senderHost",
      sender_port AS "senderPort", received_tli AS "receivedTli" FROM pg_stat_wal_receiver) w),
  'replication', (SELECT coalesce(json_agg(r), '[]'::json) FROM (SELECT application_name AS "applicationName",
      host(client_addr) AS "clientAddr", state, sync_state AS "syncState",
      pg_wal_lsn_diff(sent_lsn, replay_lsn)::bigint AS "replayLagBytes",
      extract(epoch FROM replay_lag)::float8 AS "replayLagS" FROM pg_stat_replication) r)
)`;

function section(name: string, body: string): string {
  return [`echo '${BEGIN}${name}'`, `( ${body}\n)`, `echo "${END}${name} $?"`].join('\n');
}

/** answers `t` over a TLS connection */
const TLS_SQL = 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()';

function clientConn(address: string, port: number, sslmode: string): string {
  return `host=${address} port=${port} dbname=postgres user=${ROLES.superuser} sslmode=${sslmode} connect_timeout=5 application_name=tpa-test`;
}

/** The whole script. Stdout only; stderr of each part is folded in where a message matters. */
export function buildObserveScript(req: ObserveRequest): string {
  const parts: string[] = ['export LC_ALL=C'];
  if (req.client) parts.push('IFS= read -r TPA_PW || :');
  else parts.push('exec </dev/null');
  const psql = (sql: string) => `${psqlAsPostgres({ sql, onErrorStop: false })} </dev/null`;

  if (req.services.length > 0) {
    parts.push(
      section(
        'services',
        sh`for u in ${req.services}; do printf '%s %s\\n' "$u" "$(systemctl is-active -- "$u" 2>/dev/null)"; done`,
      ),
    );
  }
  parts.push(section('pg', `${psql(PG_OBSERVE_SQL)} 2>&1`));
  // what the start guard said when it last refused to start the server (a manager with one)
  parts.push(section('fence', `cat ${START_GUARD_MARKER} 2>/dev/null || true`));
  for (const s of req.sections) parts.push(section(s.name, s.body));
  if (req.packages.length > 0) {
    parts.push(
      section(
        'packages',
        sh`dpkg-query -W -f='\${Package}|\${Version}|\${db:Status-Status}\\n' ${req.packages} 2>/dev/null; ` +
          `printf 'debian|%s|installed\\n' "$(cat /etc/debian_version 2>/dev/null)"`,
      ),
    );
  }
  if (req.client) {
    const c = req.client;
    const run = (pw: ShellValue, port: number, sslmode: string, sql: string) =>
      sh`cd / && PGPASSWORD=${pw} timeout ${CLIENT_TIMEOUT_S} psql -X -A -t -q -v ON_ERROR_STOP=1 -d ${clientConn(c.address, port, sslmode)} -c ${sql} </dev/null 2>&1`;
    const write = [
      MARKER_SETUP_SQL,
      markerInsertSql(c.markerId, `${req.pooler?.name}@${c.address}`),
      `SELECT json_build_object('server', host(inet_server_addr()), 'inRecovery', pg_is_in_recovery(),
        'serverTls', (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()))`,
    ].join('; ');
    const wrong = c.wrongPassword;
    const pw = raw('"$TPA_PW"');
    if (req.pooler) {
      // the section names are the parser's, whatever the pooler
      const port = req.pooler.port;
      parts.push(section('client-write', run(pw, port, 'require', write)));
      parts.push(section('client-notls-pgbouncer', run(pw, port, 'disable', 'SELECT 1')));
      parts.push(section('client-badpw-pgbouncer', run(wrong, port, 'require', 'SELECT 1')));
    }
    // the same client with TLS and the right password: proves a refusal below is for the
    // missing TLS or the wrong password, not because this address may not connect at all
    parts.push(section('client-tls-postgres', run(pw, PG_PORT, 'require', TLS_SQL)));
    parts.push(section('client-notls-postgres', run(pw, PG_PORT, 'disable', 'SELECT 1')));
    parts.push(section('client-badpw-postgres', run(wrong, PG_PORT, 'require', 'SELECT 1')));
  }
  return parts.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// Parsing

export interface Section {
  output: string;
  exitCode: number;
}

/** name -> output and exit code; a section cut short (no end line) has exit code -1 */
export function splitSections(stdout: string): Record<string, Section> {
  const out: Record<string, Section> = {};
  let name: string | undefined;
  let lines: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(BEGIN)) {
      if (name !== undefined) out[name] = { output: lines.join('\n'), exitCode: -1 };
      name = line.slice(BEGIN.length).trim();
      lines = [];
    } else if (line.startsWith(END) && name !== undefined) {
      const [endName, code] = line.slice(END.length).trim().split(' ');
      if (endName === name) {
        out[name] = { output: lines.join('\n').trim(), exitCode: Number(code ?? -1) };
        name = undefined;
        lines = [];
      }
    } else if (name !== undefined) lines.push(line);
  }
  if (name !== undefined) out[name] = { output: lines.join('\n').trim(), exitCode: -1 };
  return out;
}

export interface WalReceiver {
  status: string;
  senderHost: string | null;
  senderPort: number | null;
  receivedTli: number | null;
}

export interface ReplicationRow {
  applicationName: string;
  clientAddr: string | null;
  state: string;
  syncState: string;
  replayLagBytes: number | null;
  replayLagS: number | null;
}

export interface PgObservation {
  inRecovery: boolean;
  version: string;
  lsn: string | null;
  receiveLsn: string | null;
  timeline: number | null;
  startedAt: string;
  systemId: string;
  replayDelayS: number | null;
  walReceiver: WalReceiver | null;
  replication: ReplicationRow[];
}

export interface RepmgrRow {
  id: number;
  name: string;
  role: string;
  status: string;
  upstream: string;
}

export interface ClientProbe {
  ok: boolean;
  output: string;
}

export interface NodeObservation {
  node: string;
  /** unit -> `systemctl is-active` answer (active, inactive, failed, ...) */
  services: Record<string, string>;
  /** present when postgres answered on the local socket */
  pg?: PgObservation;
  /** why postgres did not answer */
  pgError?: string;
  /** the start guard's message when it refused to start the server as a second primary */
  fenced?: string;
  pgbouncer?: {
    /** `host=... port=...` from databases.ini: where pgbouncer sends every database */
    route?: string;
    routeHost?: string;
    error?: string;
  };
  repmgr?: {
    ok: boolean;
    /** node_id -> [connection status, recovery type] from --csv */
    csv: { id: number; connection: number; recovery: number }[];
    table: RepmgrRow[];
    error?: string;
  };
  /** package -> installed version */
  packages?: Record<string, string>;
  client?: {
    /** through this node's pgbouncer (pooler pgbouncer only) */
    write?: ClientProbe & { server?: string; inRecovery?: boolean; serverTls?: boolean };
    noTlsPgbouncer?: ClientProbe;
    badPasswordPgbouncer?: ClientProbe;
    /** the right password over TLS to postgres: ok when it connected and the session is TLS */
    tlsPostgres: ClientProbe;
    noTlsPostgres: ClientProbe;
    badPasswordPostgres: ClientProbe;
  };
}

function hostOf(conninfo: string): string | undefined {
  return /(?:^|\s)host=([^\s]+)/.exec(conninfo)?.[1];
}

/** `repmgr cluster show` table: a header line of column names, a rule, then one row per node. */
export function parseRepmgrTable(text: string): RepmgrRow[] {
  const lines = text.split('\n').filter((l) => l.includes('|'));
  if (lines.length === 0) return [];
  const header = lines[0]!.split('|').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [iId, iName, iRole, iStatus, iUp] = ['id', 'name', 'role', 'status', 'upstream'].map(col);
  if ([iId, iName, iRole, iStatus, iUp].some((i) => i === undefined || i < 0)) return [];
  const rows: RepmgrRow[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split('|').map((c) => c.trim());
    const id = Number(cells[iId!]);
    if (!Number.isInteger(id)) continue;
    rows.push({
      id,
      name: cells[iName!] ?? '',
      role: cells[iRole!] ?? '',
      status: cells[iStatus!] ?? '',
      upstream: cells[iUp!] ?? '',
    });
  }
  return rows;
}

/** `repmgr cluster show --csv`: node_id,connection status (0 ok, -1 unreachable),recovery (0 primary, 1 standby, -1 unknown) */
export function parseRepmgrCsv(text: string): { id: number; connection: number; recovery: number }[] {
  const rows = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+),(-?\d+),(-?\d+)\s*$/.exec(line);
    if (m) rows.push({ id: Number(m[1]), connection: Number(m[2]), recovery: Number(m[3]) });
  }
  return rows;
}

function probe(s: Section | undefined): ClientProbe {
  return { ok: s?.exitCode === 0, output: s?.output ?? '(not run)' };
}

/** the JSON document in a section's output (json_agg breaks lines between elements) */
function parseJson<T>(text: string): T | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(text.slice(start)) as T;
  } catch {
    return undefined;
  }
}

export function parseObservation(node: string, stdout: string): NodeObservation {
  const s = splitSections(stdout);
  const obs: NodeObservation = { node, services: {} };
  for (const line of (s.services?.output ?? '').split('\n')) {
    const [unit, state] = line.trim().split(/\s+/);
    if (unit) obs.services[unit] = state || 'unknown';
  }
  const pg = s.pg;
  if (pg) {
    const parsed = pg.exitCode === 0 ? parseJson<PgObservation>(pg.output) : undefined;
    if (parsed) obs.pg = { ...parsed, replication: parsed.replication ?? [] };
    else if (pg.exitCode === 0) obs.pgError = `unreadable answer from postgres: ${pg.output.slice(0, 200)}`;
    else obs.pgError = errorLine(pg.output) || `psql exited with ${pg.exitCode}`;
  }
  const fenced = s.fence?.output.split('\n')[0]?.trim();
  if (fenced) obs.fenced = fenced;
  const route = s['pgbouncer-route'];
  if (route) {
    const line = route.exitCode === 0 ? route.output.split('\n')[0]?.trim() : undefined;
    const host = line ? hostOf(line) : undefined;
    obs.pgbouncer = {
      ...(line ? { route: line } : {}),
      ...(host ? { routeHost: host } : {}),
      ...(route.exitCode !== 0 ? { error: lastLine(route.output) } : {}),
    };
  }
  if (s['repmgr-csv'] || s['repmgr-table']) {
    const csv = s['repmgr-csv'];
    const table = s['repmgr-table'];
    const rows = parseRepmgrTable(table?.output ?? '');
    // repmgr exits non-zero when any node is unreachable; its table still says which
    const ok = rows.length > 0;
    obs.repmgr = {
      ok,
      csv: parseRepmgrCsv(csv?.output ?? ''),
      table: rows,
      ...(ok ? {} : { error: errorLine(table?.output ?? '') || `exit code ${table?.exitCode ?? '?'}` }),
    };
  }
  if (s.packages) {
    obs.packages = {};
    for (const line of s.packages.output.split('\n')) {
      const [name, version, status] = line.split('|');
      if (name && version && status === 'installed') obs.packages[name] = version;
    }
  }
  if (s['client-notls-postgres']) {
    const w = s['client-write'];
    const answer =
      w?.exitCode === 0
        ? parseJson<{ server: string; inRecovery: boolean; serverTls: boolean }>(w.output)
        : undefined;
    const tls = s['client-tls-postgres'];
    obs.client = {
      ...(w ? { write: { ok: answer !== undefined, output: w.output, ...(answer ?? {}) } } : {}),
      ...(s['client-notls-pgbouncer'] ? { noTlsPgbouncer: probe(s['client-notls-pgbouncer']) } : {}),
      ...(s['client-badpw-pgbouncer'] ? { badPasswordPgbouncer: probe(s['client-badpw-pgbouncer']) } : {}),
      tlsPostgres: {
        ok: tls?.exitCode === 0 && lastLine(tls.output) === 't',
        output: tls?.output ?? '(not run)',
      },
      noTlsPostgres: probe(s['client-notls-postgres']),
      badPasswordPostgres: probe(s['client-badpw-postgres']),
    };
  }
  return obs;
}

/** the line of a tool's output that says what went wrong, without the tool's prefix */
export function errorLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const line = lines.find((l) => /\b(FATAL|ERROR|error):/.test(l)) ?? lines.at(-1) ?? '';
  return line
    .replace(/^(psql|repmgr): error: /, '')
    .replace(/^(ERROR|FATAL):\s+/, '')
    .trim();
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .at(-1) ?? ''
  );
}

/** `0/3000148` -> bytes; undefined for anything else */
export function lsnBytes(lsn: string | null | undefined): bigint | undefined {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn ?? '');
  if (!m) return undefined;
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}
