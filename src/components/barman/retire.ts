/**
 * Servers a backup host no longer serves: a cluster removed from config.yml, one whose
 * backup_server moved to another host, or backups turned off. Deploy stops the server's WAL
 * streaming and removes its /etc/barman.d/<name>.conf, but only a file tpa wrote (its first
 * line is conf.ts's MANAGED_HEADER); a server someone configured by hand is left alone.
 * Backups and WAL under /var/lib/barman/<name> are never deleted: the plan says where they
 * stay, and removing them is a person's decision.
 */
import type { HostFacts, Resource } from '../../plan/types.ts';
import { raw, sh } from '../../core/shell.ts';
import { MANAGED_HEADER } from './conf.ts';
import {
  BARMAN_CONF_DIR,
  BARMAN_CRON_FILE,
  BARMAN_HOME,
  BARMAN_USER,
  barmanCommand,
  serverConfPath,
  serverHome,
} from './paths.ts';

export const MANAGED_CONF_PROBE = 'barman:managed-confs';

/** what marks a file tpa wrote: the start of its first line (the wording after it may change) */
export const MANAGED_MARK = MANAGED_HEADER.slice(0, MANAGED_HEADER.indexOf(':'));

export interface ManagedConf {
  server: string;
  /** complete backups kept under /var/lib/barman/<server>/base */
  backups: number;
}

export interface ManagedConfs {
  servers: ManagedConf[];
  /** /etc/cron.d/tpa-barman exists (it names the servers in its backup lines) */
  cronFile: boolean;
}

/** lists the tpa-written server files in /etc/barman.d, with the backups each server keeps */
export function managedConfsProbeCommand(
  paths: { confDir: string; barmanHome: string; cronFile: string } = {
    confDir: BARMAN_CONF_DIR,
    barmanHome: BARMAN_HOME,
    cronFile: BARMAN_CRON_FILE,
  },
): string {
  return [
    sh`for f in ${paths.confDir}/*.conf; do`,
    '  [ -f "$f" ] || continue',
    sh`  head -n 1 "$f" | grep -qF ${MANAGED_MARK} || continue`,
    '  s=${f##*/}; s=${s%.conf}; n=0',
    sh`  for b in ${paths.barmanHome}/"$s"/base/*/backup.info; do`,
    `    [ -f "$b" ] && grep -qx 'status=DONE' "$b" && n=$((n+1))`,
    '  done',
    '  echo "server=$s backups=$n"',
    'done',
    sh`[ -f ${paths.cronFile} ] && echo cron=1`,
    'true',
  ].join('\n');
}

export function parseManagedConfs(raw: string | undefined): ManagedConfs {
  const servers: ManagedConf[] = [];
  let cronFile = false;
  for (const line of (raw ?? '').split('\n')) {
    const t = line.trim();
    if (t === 'cron=1') cronFile = true;
    const m = /^server=(\S+) backups=(\d+)$/.exec(t);
    if (m) servers.push({ server: m[1]!, backups: Number(m[2]) });
  }
  return { servers, cronFile };
}

export function managedConfs(facts: HostFacts | undefined): ManagedConfs {
  return parseManagedConfs(facts?.probes[MANAGED_CONF_PROBE]);
}

/** the tpa-written servers on the host that no cluster in config.yml is served by any more */
export function leftoverServers(facts: HostFacts | undefined, served: readonly string[]): ManagedConf[] {
  return managedConfs(facts).servers.filter((s) => !served.includes(s.server));
}

const RECEIVE_WAL_STOP_WAIT_S = 30;
const CRON_LOCK_WAIT_S = 120;

/** where the retire command looks and how it runs barman; tests point it at a temporary directory */
export interface RetireEnv {
  confPath: (server: string) => string;
  barmanHome: string;
  /** a barman command line, run as the barman user */
  barman: (args: string[]) => string;
  /** a command line run as the barman user */
  asBarman: (command: string) => string;
}

const DEFAULT_ENV: RetireEnv = {
  confPath: serverConfPath,
  barmanHome: BARMAN_HOME,
  barman: barmanCommand,
  asBarman: (command) => sh`env -C / runuser -u ${BARMAN_USER} -- ${raw(command)}`,
};

/**
 * Stop receive-wal, then remove the file, while holding barman's global cron lock: `barman
 * cron` (every minute) would otherwise start receive-wal again between the two, leaving a
 * pg_receivewal that no configuration names. barman cron skips a minute when the lock is
 * taken. The lock file is created as barman when missing, because barman must be able to
 * open it for writing. Re-checks that tpa wrote the file: the probe ran earlier.
 */
export function retireCommand(server: string, env: RetireEnv = DEFAULT_ENV): string {
  const confPath = env.confPath(server);
  const lock = `${env.barmanHome}/.${server}-receive-wal.lock`;
  const cronLock = `${env.barmanHome}/.cron.lock`;
  return [
    'set -eu',
    sh`[ -f ${confPath} ] || exit 0`,
    sh`if ! head -n 1 ${confPath} | grep -qF ${MANAGED_MARK}; then`,
    sh`  echo ${`${confPath} was not written by tpa: left as it is`} >&2`,
    '  exit 0',
    'fi',
    sh`[ -f ${cronLock} ] || ${raw(env.asBarman(sh`touch ${cronLock}`))}`,
    sh`exec 9<${cronLock}`,
    `flock -w ${CRON_LOCK_WAIT_S} 9 || { echo 'barman cron held its lock for ${CRON_LOCK_WAIT_S} s' >&2; exit 1; }`,
    `${env.barman(['receive-wal', '--stop', server])} >/dev/null 2>&1 || true`,
    'i=0',
    sh`while [ -f ${lock} ] && ! flock -n -s ${lock} true 2>/dev/null; do`,
    '  i=$((i+1))',
    `  if [ "$i" -gt ${RECEIVE_WAL_STOP_WAIT_S} ]; then`,
    sh`    echo ${`barman receive-wal of ${server} did not stop within ${RECEIVE_WAL_STOP_WAIT_S} s`} >&2`,
    '    exit 1',
    '  fi',
    '  sleep 1',
    'done',
    sh`rm -f ${confPath}`,
  ].join('\n');
}

function keptText(n: number): string {
  return n === 0 ? 'its WAL stays' : `its ${n} backup${n === 1 ? '' : 's'} and WAL stay`;
}

/** one action per leftover server; the description is what `tpa plan` shows */
export function retireResources(leftovers: readonly ManagedConf[]): Resource[] {
  return leftovers.map((l) => ({
    kind: 'action',
    id: `barman-retire-${l.server}`,
    description:
      `stop WAL streaming of barman server ${l.server} (no cluster in config.yml is backed up here) ` +
      `and remove ${serverConfPath(l.server)}; ${keptText(l.backups)} in ${serverHome(l.server)} ` +
      '(tpa never deletes backups: remove that directory by hand once they are no longer needed)',
    command: retireCommand(l.server),
    needed: (f: HostFacts) => managedConfs(f).servers.some((s) => s.server === l.server),
    timeoutMs: (CRON_LOCK_WAIT_S + RECEIVE_WAL_STOP_WAIT_S + 30) * 1000,
  }));
}
