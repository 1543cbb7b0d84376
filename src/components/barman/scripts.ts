/**
 * Shell run on a backup server by the barman component's actions and checks. Pure strings;
 * every barman call runs as the barman OS user (paths.ts barmanCommand).
 */
import { sh } from '../../core/shell.ts';
import { barmanConninfo } from './conf.ts';
import { BARMAN_HOME, BARMAN_USER, barmanCommand, serverHome } from './paths.ts';

const b = (args: string[]) => barmanCommand(args);

/** wait until pg_receivewal has a .partial WAL file for the server and holds its lock */
function waitForStreaming(server: string, seconds: number): string {
  const lock = `${BARMAN_HOME}/.${server}-receive-wal.lock`;
  const streaming = `${serverHome(server)}/streaming`;
  return [
    'i=0',
    sh`until [ -f ${lock} ] && ! flock -n -s ${lock} true 2>/dev/null && ls ${streaming}/*.partial >/dev/null 2>&1; do`,
    '  i=$((i+1))',
    `  if [ "$i" -gt ${seconds} ]; then`,
    `    echo "barman receive-wal for ${server} did not start streaming within ${seconds} s" >&2`,
    `    ${b(['check', server])} >&2 || true`,
    '    tail -n 20 /var/log/barman/barman.log >&2 || true',
    '    exit 1',
    '  fi',
    // barman cron (every minute from the package's cron.d) restarts a receive-wal that died
    `  if [ $((i % 10)) -eq 0 ]; then ${b(['cron'])} >/dev/null 2>&1 || true; fi`,
    '  sleep 1',
    'done',
  ].join('\n');
}

/**
 * Close the primary's current WAL file and wait until barman has archived it. barman 3.4's
 * `switch-wal --force` issues CHECKPOINT, which it allows only to superusers (it predates
 * pg_checkpoint); instead the barman role writes a restore point, so there is always
 * something to switch, and `switch-wal` without --force closes the file.
 */
export function closeWalCommand(server: string, primaryAddress: string, timeoutSeconds = 120): string {
  const sql = "SELECT pg_create_restore_point('tpa_barman_switch_wal')";
  return [
    sh`env -C / runuser -u ${BARMAN_USER} -- psql -X -q -w -d ${barmanConninfo(primaryAddress)} -c ${sql} >/dev/null`,
    b(['switch-wal', '--archive', '--archive-timeout', String(timeoutSeconds), server]),
  ].join('\n');
}

/**
 * (Re)start WAL streaming with the configuration as written now: stop a receive-wal that may
 * stream from a former primary, let `barman cron` start it again (it creates the slot on
 * the primary, create_slot = auto), then switch WAL and wait until that file is archived, so
 * `barman check` sees WAL archiving working and a backup can complete.
 */
export function startStreamingCommand(server: string, primaryAddress: string): string {
  return [
    'set -eu',
    `${b(['receive-wal', '--stop', server])} >/dev/null 2>&1 || true`,
    `${b(['cron'])}`,
    waitForStreaming(server, 60),
    closeWalCommand(server, primaryAddress),
  ].join('\n');
}

/** a full base backup, waiting until the WAL it needs is archived (the backup is then usable) */
export function firstBackupCommand(server: string): string {
  return ['set -eu', `${b(['backup', '--wait', server])}`].join('\n');
}

/** exit 0 when every barman check passes; otherwise the failed checks on stderr */
export function checkCommand(server: string): string {
  return [
    `out=$(${b(['check', server])} 2>&1)`,
    'rc=$?',
    'if [ "$rc" -ne 0 ] || printf "%s\\n" "$out" | grep -q FAILED; then',
    '  printf "%s\\n" "$out" | grep -v ": OK" >&2',
    '  exit 1',
    'fi',
  ].join('\n');
}
