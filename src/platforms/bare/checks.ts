/**
 * What tpa needs from an existing host before it adopts it: root or password-less sudo,
 * Debian 12, and room on /var/lib (where PostgreSQL, barman and the packages live).
 * One probe command gathers the facts; the checks are pure functions over them.
 */
import { OperationError } from '../../core/errors.ts';
import type { Transport } from '../../transport/transport.ts';

/**
 * Free space required on /var/lib. Not volume_gb: that is the size of a disk a platform
 * creates, while a bare host comes with the disks it has; a cluster that outgrows them is the
 * owner's call. 2 GiB holds the packages, an empty cluster and some WAL.
 */
export const MIN_FREE_GB = 2;

export interface BareFacts {
  uid: number;
  /** root: logged in as root; ok: sudo -n works; no: neither */
  sudo: 'root' | 'ok' | 'no';
  osId: string;
  osVersion: string;
  osName: string;
  /** free space on /var/lib in KiB; undefined when df gave nothing */
  freeKb: number | undefined;
  cpus: number | undefined;
  memoryMb: number | undefined;
}

const MARK = '--tpa-os-release--';

/** Prints key=value facts, then the os-release file after a marker. Runs as the login user. */
export const PROBE_SCRIPT = [
  'echo "uid=$(id -u)"',
  'if [ "$(id -u)" = 0 ]; then echo sudo=root; elif sudo -n true 2>/dev/null; then echo sudo=ok; else echo sudo=no; fi',
  `echo "free_kb=$(df -Pk /var/lib 2>/dev/null | awk 'NR==2 {print $4}')"`,
  'echo "cpus=$(nproc 2>/dev/null)"',
  `echo "mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null)"`,
  `echo ${MARK}`,
  'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || true',
].join('\n');

/** os-release is shell-style KEY=value with optional quotes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!.trim();
    if (/^".*"$|^'.*'$/.test(v)) v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    out[m[1]!] = v;
  }
  return out;
}

export function parseProbe(stdout: string): BareFacts {
  const cut = stdout.indexOf(MARK);
  const head = cut >= 0 ? stdout.slice(0, cut) : stdout;
  const os = parseOsRelease(cut >= 0 ? stdout.slice(cut + MARK.length) : '');
  const kv: Record<string, string> = {};
  for (const line of head.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : undefined);
  const sudo = kv.sudo === 'root' || kv.sudo === 'ok' ? kv.sudo : 'no';
  const memKb = num(kv.mem_kb);
  return {
    uid: num(kv.uid) ?? -1,
    sudo,
    osId: os.ID ?? '',
    osVersion: os.VERSION_ID ?? '',
    osName: os.PRETTY_NAME ?? os.NAME ?? 'an unknown system',
    freeKb: num(kv.free_kb),
    cpus: num(kv.cpus),
    memoryMb: memKb !== undefined ? Math.round(memKb / 1024) : undefined,
  };
}

export interface CheckProblem {
  check: 'sudo' | 'os' | 'disk';
  message: string;
  hint: string;
}

/** Everything wrong with a host, so one run reports it all. */
export function problemsOf(facts: BareFacts, user: string): CheckProblem[] {
  const problems: CheckProblem[] = [];
  if (facts.sudo === 'no') {
    problems.push({
      check: 'sudo',
      message: `user ${user} is not root and cannot use sudo without a password`,
      hint: `add "${user} ALL=(ALL) NOPASSWD:ALL" to /etc/sudoers.d/ on the host, or log in as root`,
    });
  }
  if (facts.osId !== 'debian' || facts.osVersion !== '12') {
    problems.push({
      check: 'os',
      message: `runs ${facts.osName} (ID=${facts.osId || '?'}, VERSION_ID=${facts.osVersion || '?'}), not Debian 12`,
      hint: 'tpa supports Debian 12 (bookworm) hosts; reinstall the host or pick another one',
    });
  }
  const needKb = MIN_FREE_GB * 1024 * 1024;
  if (facts.freeKb === undefined) {
    problems.push({
      check: 'disk',
      message: 'could not read the free space on /var/lib (df)',
      hint: 'make sure df (coreutils) works on the host',
    });
  } else if (facts.freeKb < needKb) {
    problems.push({
      check: 'disk',
      message: `only ${(facts.freeKb / 1024 / 1024).toFixed(1)} GiB free on /var/lib (at least ${MIN_FREE_GB} GiB needed)`,
      hint: 'free some space or grow the file system holding /var/lib',
    });
  }
  return problems;
}

/** Probe a host and throw one OperationError naming the host and every failed check. */
export async function checkBareHost(t: Transport, user: string): Promise<BareFacts> {
  const r = await t.exec(PROBE_SCRIPT, { step: 'check', timeoutMs: 60_000 });
  const facts = parseProbe(r.stdout);
  const problems = problemsOf(facts, user);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new OperationError(
      `${t.host}: failed check${problems.length > 1 ? 's' : ''} ` +
        problems.map((p) => `[${p.check}] ${p.message}`).join('; '),
      { host: t.host, step: `check ${problems.map((p) => p.check).join(', ')}`, hint: first.hint },
    );
  }
  return facts;
}
