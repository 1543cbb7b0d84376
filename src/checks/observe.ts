/**
 * What a node looks like right now, as `tpa test`, `tpa status` and `tpa info` need it: one
 * shell script per node (one round trip), printing framed sections, and a pure parser for its
 * output. postgres answers in JSON; everything else is a few plain lines per section.
 *
 * The client section (test only) connects to the node's own pooler and postgres over TCP,
 * the way a client does: the superuser's password arrives on stdin and reaches psql through
 * its environment, never its arguments. The failover manager's and the pooler's own sections
 * are read by them (their readSections()).
 */
import { raw, sh, type ShellValue } from '../core/shell.ts';
import { PG_PORT, ROLES, type PgPaths } from '../components/postgres/paths.ts';
import { START_GUARD_MARKER, type ObserveSection } from '../components/failover/manager.ts';
import { psqlAsPostgres, PSQL_BIN } from '../components/postgres/psql.ts';
import { allFailoverManagers } from '../components/failover/registry.ts';
import { allPoolers } from '../components/pooler/registry.ts';
import { MARKER_SETUP_SQL, markerInsertSql } from './markers.ts';
import {
  errorLine,
  lastLine,
  type ClientProbe,
  type NodeObservation,
  type PgObservation,
  type Section,
} from './observation.ts';

const BEGIN = '@@tpa-begin ';
const END = '@@tpa-end ';
/** a client attempt gives up after this long (a pooler may queue a client while its server is down) */
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
  const head: string[] = ['export LC_ALL=C'];
  if (req.client) head.push('IFS= read -r TPA_PW || :');
  else head.push('exec </dev/null');
  // one section after another: side by side, the client logins and `repmgr cluster show`s of
  // every node at once overran repmgr's 2 s connect timeout on 2 cores (a false
  // "unreachable"), and the whole took no less time
  const parts: string[] = [];
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
      // psql itself, not Debian's Perl wrapper: six of these per node
      sh`cd / && PGPASSWORD=${pw} timeout ${CLIENT_TIMEOUT_S} ${PSQL_BIN} -X -A -t -q -v ON_ERROR_STOP=1 -d ${clientConn(c.address, port, sslmode)} -c ${sql} </dev/null 2>&1`;
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
      parts.push(section('client-notls-pooler', run(pw, port, 'disable', 'SELECT 1')));
      parts.push(section('client-badpw-pooler', run(wrong, port, 'require', 'SELECT 1')));
    }
    // the same client with TLS and the right password: proves a refusal below is for the
    // missing TLS or the wrong password, not because this address may not connect at all
    parts.push(section('client-tls-postgres', run(pw, PG_PORT, 'require', TLS_SQL)));
    parts.push(section('client-notls-postgres', run(pw, PG_PORT, 'disable', 'SELECT 1')));
    parts.push(section('client-badpw-postgres', run(wrong, PG_PORT, 'require', 'SELECT 1')));
  }
  return [...head, ...parts].join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// Parsing

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
  // every implementation is asked, not only the cluster's (this parser does not know the
  // cluster): each reads the sections of its own that it finds
  for (const own of [...allPoolers(), ...allFailoverManagers()]) Object.assign(obs, own.readSections(s));
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
      ...(s['client-notls-pooler'] ? { noTlsPooler: probe(s['client-notls-pooler']) } : {}),
      ...(s['client-badpw-pooler'] ? { badPasswordPooler: probe(s['client-badpw-pooler']) } : {}),
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
