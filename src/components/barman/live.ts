/**
 * What a backup server has now, for `tpa info` and `tpa status`, read in one script per
 * backup host: per barman server the retention policy in its server file (what barman reads
 * at its next run: barman reads its configuration at every invocation), the schedule of its
 * line in the cron file, its backups (`barman -f json list-backups`, which reads barman's
 * catalogue and opens no connection), and for info the retention policy barman itself
 * reports (`barman -f json show-server`, which also asks the primary, so it is slower); and
 * the tpa-written servers no cluster in config.yml uses any more. Pure: script and parser.
 */
import { raw, sh } from '../../core/shell.ts';
import { parseListBackupsJson, type BackupSummary } from './output.ts';
import { BARMAN_CONF_DIR, BARMAN_CRON_FILE, BARMAN_HOME, barmanJsonCommand } from './paths.ts';
import { managedConfsProbeCommand, parseManagedConfs, type ManagedConf } from './retire.ts';

const SERVER = '@@tpa-live-server ';
const SECTION = '@@tpa-live-section ';
/** show-server waits for the primary (connect_timeout 10 s in the conninfo) */
export const SHOW_SERVER_TIMEOUT_S = 40;

export interface LiveServer {
  server: string;
  /** /etc/barman.d/<server>.conf exists */
  configured: boolean;
  /** retention_policy written in the server file */
  confRetention?: string;
  /** retention_policy as `barman show-server` reports it (asked only with showServer) */
  barmanRetention?: string;
  /** the schedule of the server's backup line in /etc/cron.d/tpa-barman */
  cronSchedule?: string;
  backups?: BackupSummary[];
  /** why the backups or barman's own view could not be read */
  errors: string[];
}

export interface LiveHost {
  servers: LiveServer[];
  /** tpa-written servers on the host that config.yml no longer backs up here */
  managed: ManagedConf[];
}

export interface LiveOptions {
  /** also run `barman show-server` (slow: it connects to the primary) */
  showServer?: boolean;
}

/** where the script looks and how it runs barman; tests point it at a temporary directory */
export interface LivePaths {
  confDir: string;
  barmanHome: string;
  cronFile: string;
  /** barman with JSON output, run as the barman user */
  barmanJson: (args: string[]) => string;
}

const DEFAULT_PATHS: LivePaths = {
  confDir: BARMAN_CONF_DIR,
  barmanHome: BARMAN_HOME,
  cronFile: BARMAN_CRON_FILE,
  barmanJson: barmanJsonCommand,
};

export function liveScript(
  servers: readonly string[],
  opts: LiveOptions = {},
  paths: LivePaths = DEFAULT_PATHS,
): string {
  const cronFile = paths.cronFile;
  const lines: string[] = [`echo '${SECTION}managed'`, managedConfsProbeCommand(paths)];
  for (const s of servers) {
    const conf = `${paths.confDir}/${s}.conf`;
    lines.push(
      `echo '${SERVER}${s}'`,
      `echo '${SECTION}conf'`,
      sh`if [ -f ${conf} ]; then echo present; sed -n 's/^retention_policy *= *//p' ${conf} | head -n 1; fi`,
      `echo '${SECTION}cron'`,
      sh`[ -f ${cronFile} ] && awk -v s=${s} '$NF == s && $(NF-1) == "backup" { print $1, $2, $3, $4, $5; exit }' ${cronFile}`,
      `echo '${SECTION}list'`,
      sh`[ -f ${conf} ] && ${raw(paths.barmanJson(['list-backups', s]))} 2>/dev/null; echo`,
    );
    if (opts.showServer) {
      lines.push(
        `echo '${SECTION}show'`,
        sh`[ -f ${conf} ] && timeout ${SHOW_SERVER_TIMEOUT_S} ${raw(paths.barmanJson(['show-server', s]))} 2>/dev/null; echo`,
      );
    }
  }
  lines.push('true');
  return lines.join('\n');
}

/** sections per server ('' holds what comes before the first server) */
function split(stdout: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>([['', {}]]);
  let server = '';
  let section: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(SERVER)) {
      server = line.slice(SERVER.length).trim();
      out.set(server, {});
      section = undefined;
    } else if (line.startsWith(SECTION)) {
      section = line.slice(SECTION.length).trim();
      out.get(server)![section] = '';
    } else if (section !== undefined) {
      out.get(server)![section] += `${line}\n`;
    }
  }
  return out;
}

/** barman's retention_policy for the server from show-server's JSON */
export function parseShowServerRetention(stdout: string, server: string): string | undefined {
  let data: unknown;
  try {
    data = JSON.parse(stdout.trim());
  } catch {
    const first = stdout.trim().split('\n')[0] ?? '';
    throw new Error(`barman show-server ${server}: not JSON: ${first.slice(0, 200)}`);
  }
  const obj = (data !== null && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  if (Array.isArray(obj._ERROR) && obj._ERROR.length)
    throw new Error(`barman show-server ${server}: ${obj._ERROR.map(String).join('; ')}`);
  const entry = obj[server];
  if (entry === null || typeof entry !== 'object')
    throw new Error(`barman show-server: no entry for server ${server}`);
  const r = (entry as Record<string, unknown>).retention_policy;
  return typeof r === 'string' && r.trim() !== '' ? r.trim() : undefined;
}

export function parseLive(stdout: string, servers: readonly string[]): LiveHost {
  const parts = split(stdout);
  const managed = parseManagedConfs(parts.get('')?.managed).servers;
  const out: LiveServer[] = servers.map((server) => {
    const p = parts.get(server) ?? {};
    const conf = (p.conf ?? '').split('\n').filter((l) => l.trim() !== '');
    const configured = conf[0] === 'present';
    const live: LiveServer = { server, configured, errors: [] };
    if (conf[1]) live.confRetention = conf[1].trim();
    const cron = (p.cron ?? '').trim();
    if (cron) live.cronSchedule = cron;
    if (!configured) return live;
    try {
      live.backups = parseListBackupsJson(p.list ?? '', server);
    } catch (e) {
      live.errors.push((e as Error).message);
    }
    if (p.show !== undefined) {
      try {
        const r = parseShowServerRetention(p.show, server);
        if (r !== undefined) live.barmanRetention = r;
      } catch (e) {
        live.errors.push((e as Error).message);
      }
    }
    return live;
  });
  return { servers: out, managed };
}
