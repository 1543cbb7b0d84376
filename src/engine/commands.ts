/**
 * The shell commands that apply a change. Pure: strings in, strings out. Every command runs
 * as root (sudo) on the host; secrets travel on stdin.
 */
import { raw, sh } from '../core/shell.ts';
import { psqlAsPostgres } from '../components/postgres/psql.ts';
import { databaseSql, roleSql } from '../plan/sql.ts';
import { octal } from '../plan/diff.ts';
import type { HandlerName, Resource } from '../plan/types.ts';

const APT_OPTS = [
  '-q',
  '-y',
  '-o DPkg::Lock::Timeout=300',
  '-o Dpkg::Options::=--force-confdef',
  '-o Dpkg::Options::=--force-confold',
].join(' ');

/**
 * One apt run for all of a phase's packages on a host. Recommends are not installed:
 * components list what they need. When the package lists are stale or missing the first
 * attempt fails, so the lists are refreshed and the install retried once.
 */
export function aptInstallCommand(packages: Extract<Resource, { kind: 'package' }>[]): string {
  const names = packages.map((p) => (p.version ? `${p.name}=${p.version}` : p.name));
  const install = sh`apt-get ${raw(APT_OPTS)} --no-install-recommends --allow-downgrades install ${names}`;
  return [
    'export DEBIAN_FRONTEND=noninteractive',
    `${install} || { apt-get -q -o DPkg::Lock::Timeout=300 update && ${install}; }`,
  ].join('\n');
}

export function directoryCommand(r: Extract<Resource, { kind: 'directory' }>): string {
  return sh`mkdir -p -- ${r.path} && chown ${`${r.owner}:${r.group}`} -- ${r.path} && chmod ${octal(r.mode)} -- ${r.path}`;
}

/** the parent of a file that is created for the first time */
export function parentDirCommand(path: string): string {
  const parent = path.slice(0, Math.max(1, path.lastIndexOf('/')));
  return sh`[ -d ${parent} ] || mkdir -p -- ${parent}`;
}

function withJournal(unit: string, command: string): string {
  return sh`${raw(command)} || { rc=$?; journalctl -u ${unit} -n 20 --no-pager >&2; exit $rc; }`;
}

export function serviceCommand(r: Extract<Resource, { kind: 'service' }>): string {
  // --no-reload: enabling only links the unit for the next boot; the daemon-reload systemctl
  // would do costs seconds in a container, and units tpa changed were reloaded already
  const enable = sh`systemctl ${r.enabled ? 'enable' : 'disable'} --no-reload --quiet -- ${r.name}`;
  const steps =
    r.state === 'running'
      ? [enable, withJournal(r.name, sh`systemctl start -- ${r.name}`)]
      : [sh`systemctl stop -- ${r.name}`, enable];
  return ['set -e', ...steps].join('\n');
}

/** psql as the postgres OS user over the local socket; the SQL comes on stdin */
export const PSQL = psqlAsPostgres({ tuplesOnly: false, port: false });

export function sqlFor(r: Extract<Resource, { kind: 'pg-role' | 'pg-database' }>): string {
  return r.kind === 'pg-role' ? roleSql(r) : databaseSql(r);
}

export function handlerCommand(h: HandlerName): string {
  const colon = h.indexOf(':');
  const verb = h.slice(0, colon);
  const unit = h.slice(colon + 1);
  // only a running unit: a stopped one reads its configuration when it starts, and a unit
  // that does not exist yet (its file comes later) is no error
  const run = verb === 'restart' ? sh`systemctl restart -- ${unit}` : sh`systemctl reload -- ${unit}`;
  return sh`if systemctl is-active --quiet -- ${unit}; then ${raw(withJournal(unit, run))}; else echo ${HANDLER_SKIPPED}; fi`;
}

/** printed by a handler whose unit is not running */
export const HANDLER_SKIPPED = 'tpa: unit not running, nothing to do';

export function handlerTask(h: HandlerName): string {
  return `${h.startsWith('restart:') ? 'restart' : 'reload'} ${handlerUnit(h)}`;
}

export function handlerUnit(h: HandlerName): string {
  return h.slice(h.indexOf(':') + 1);
}

/** restart:U makes reload:U redundant; order of first notification is kept */
export function dedupeHandlers(handlers: readonly HandlerName[]): HandlerName[] {
  const restarts = new Set(handlers.filter((h) => h.startsWith('restart:')).map(handlerUnit));
  const out: HandlerName[] = [];
  for (const h of handlers) {
    if (out.includes(h)) continue;
    if (h.startsWith('reload:') && restarts.has(handlerUnit(h))) continue;
    out.push(h);
  }
  return out;
}
