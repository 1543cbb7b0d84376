/**
 * The README's first command and what follows it, on one group shared by every step:
 * `tpa demo DIR` as a user runs it (exit 0, the test table and the hand-over sheet; three nodes
 * running postgres, one primary), `tpa demo DIR` again on the same directory (continues, no
 * changes, passes), `tpa psql DIR` (the primary by default, TLS, the password never in any
 * process's argv and only in a 0600 PGPASSFILE that is gone afterwards; a named replica is in
 * recovery). Then fault injection on this deployed group, observed from outside as a drill
 * would: power off / start, freeze / thaw, kill a process, isolate a node, partition two nodes
 * and heal, each checked over SSH from the host and with TCP between the nodes. Ends with
 * deprovision and a check that nothing of the group is left.
 * Needs root on a Debian host; shares its group with no other test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionError } from '../src/core/errors.ts';
import { sshTargetFor } from '../src/clusterdir/connect.ts';
import { faultsFor } from '../src/commands/fault/index.ts';
import type { PingReport } from '../src/commands/ping/index.ts';
import type { StatusReport } from '../src/commands/status/index.ts';
import type { FaultInjector, Inventory } from '../src/platforms/platform.ts';
import { SshTransport } from '../src/transport/ssh.ts';
import { lastJson, leftovers, readInventory, removePrefixed, run, sh, TPA, tpaEnv } from './support/cli.ts';

const GROUP = `it-demo-${process.pid}`;

let work: string;
let dir: string;
let prefix: string | undefined;
let inv: Inventory;
let faults: FaultInjector;
const saved: Record<string, string | undefined> = {};

const tpa = (...args: string[]) => run(TPA, args);

/** `tpa demo DIR`, timed for the record */
async function demo(label: string) {
  const started = Date.now();
  const r = await tpa('demo', dir);
  console.log(`${label}: exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return r;
}

function host(name: string) {
  const h = inv.hosts.find((x) => x.name === name);
  assert.ok(h, `inventory has ${name}`);
  return h;
}

/** A command on a node over a fresh SSH connection (the previous one may have died with a fault). */
async function onNode(node: string, command: string, connectTimeoutMs = 10_000) {
  const t = new SshTransport(await sshTargetFor(dir, host(node)), { connectTimeoutMs, connectRetries: 0 });
  try {
    return await t.exec(command, { check: false, timeoutMs: 20_000 });
  } finally {
    await t.close();
  }
}

/** Can `from` open a TCP connection to `to`'s sshd? Asked on `from`, with bash's /dev/tcp. */
async function tcpOpen(from: string, to: string): Promise<boolean> {
  const r = await onNode(from, `timeout 3 bash -c '</dev/tcp/${to}/22' && echo open || echo closed`);
  const answer = r.stdout.trim();
  assert.ok(
    answer === 'open' || answer === 'closed',
    `unexpected answer from ${from}: ${r.stdout}${r.stderr}`,
  );
  return answer === 'open';
}

async function state(node: string): Promise<string> {
  return (
    /State:\s*(\S+)/.exec((await sh(`lxc-info -n ${host(node).platformId} -s`)).stdout)?.[1] ?? 'MISSING'
  );
}

/** Every process on this host: pid, argv joined by spaces, and (for the ones asked) its environment. */
async function processes(): Promise<Array<{ pid: number; cmdline: string }>> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const raw = await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '');
    if (raw) out.push({ pid: Number(e), cmdline: raw.split('\0').join(' ') });
  }
  return out;
}

const environOf = async (pid: number) =>
  (await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')).split('\0').filter(Boolean);

interface PsqlWatch {
  code: number;
  stdout: string;
  stderr: string;
  /** pids of tpa's psql seen running (its argv carries application_name=tpa-psql) */
  psqlPids: Set<number>;
  /** pid and argv (the secret masked) of every process whose argv held the secret */
  argvLeaks: string[];
  /** environment variables of tpa's psql that held the secret */
  envLeaks: string[];
  /** PGPASSFILE of tpa's psql and its mode while psql ran */
  passfiles: Map<string, number>;
}

/**
 * Runs `tpa psql` with these arguments and, all the while, reads every process's argv on this
 * host (and the environment of tpa's psql) looking for `secret`.
 */
async function watchPsql(secret: string, args: string[]): Promise<PsqlWatch> {
  const w: PsqlWatch = {
    code: -1,
    stdout: '',
    stderr: '',
    psqlPids: new Set(),
    argvLeaks: [],
    envLeaks: [],
    passfiles: new Map(),
  };
  const child = spawn(TPA, ['psql', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (w.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (w.stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  let done = false;
  void exited.then(() => (done = true));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  while (!done) {
    for (const p of await processes()) {
      // named, never shown: the test's own output must not carry the password either
      const leak = `${p.pid}: ${p.cmdline.replaceAll(secret, '<password>')}`;
      if (p.cmdline.includes(secret) && !w.argvLeaks.includes(leak)) w.argvLeaks.push(leak);
      if (!/\bpsql\b/.test(p.cmdline) || !p.cmdline.includes('application_name=tpa-psql')) continue;
      w.psqlPids.add(p.pid);
      for (const v of await environOf(p.pid)) {
        const named = v.replaceAll(secret, '<password>');
        if (v.includes(secret) && !w.envLeaks.includes(named)) w.envLeaks.push(named);
        if (v.startsWith('PGPASSFILE=')) {
          const file = v.slice('PGPASSFILE='.length);
          const mode = await stat(file).then(
            (s) => s.mode & 0o777,
            () => -1,
          );
          if (mode >= 0) w.passfiles.set(file, mode);
        }
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  clearTimeout(killer);
  w.code = await exited;
  return w;
}

async function status(): Promise<StatusReport> {
  const r = await tpa('status', dir, '--json');
  assert.equal(r.code, 0, r.stderr);
  return lastJson<StatusReport>(r);
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the lxc integration tests run as root');
  work = await mkdtemp(join(tmpdir(), 'tpa-it-demo-'));
  dir = join(work, GROUP);
  // the vault key and the cached private key stay in the test's directory; the CLI children
  // and the in-process calls (faultsFor, sshTargetFor) both see them
  const env = tpaEnv(work);
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});

after(async () => {
  if (dir) await tpa('deprovision', dir, '--yes');
  if (!prefix && dir)
    prefix = await readInventory(dir).then(
      (i) => i.network?.prefix,
      () => undefined,
    );
  if (prefix) await removePrefixed(prefix);
  if (work) await rm(work, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

void test('tpa demo DIR: exit 0, the test verdict and the hand-over sheet; 3 nodes run postgres, one primary', async () => {
  const r = await demo('tpa demo (first run)');
  // what the later steps need first, so that one failed assertion here does not fail them all
  inv = await readInventory(dir);
  prefix = inv.network?.prefix;
  assert.equal(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  assert.match(prefix ?? '', /^tpa-[0-9a-f]{6}$/);
  assert.equal(inv.platform, 'lxc');
  assert.deepEqual(
    inv.hosts.map((h) => [h.name, h.role]),
    [
      ['main-1', 'primary'],
      ['main-2', 'replica'],
      ['main-3', 'replica'],
    ],
  );
  for (let i = 1; i <= 5; i++) assert.match(r.stderr, new RegExp(`^step ${i}/5: `, 'm'));
  // the test table: every check passed, and the repmgr and pooler checks were among them
  assert.match(r.stdout, /^ok: \d+ (checks )?passed in [\d.]+ s$/m);
  assert.doesNotMatch(r.stdout, /FAIL|FAILED/);
  for (const check of [
    'one-primary',
    'replica-streaming',
    'pgbouncer-write',
    'repmgrd-running',
    'tls-required',
  ])
    assert.match(r.stdout, new RegExp(`^\\W*${check} `, 'm'), `the table has ${check}`);
  // the hand-over sheet, without the password
  assert.match(r.stdout, new RegExp(`^# Cluster group ${GROUP}$`, 'm'));
  for (const section of ['## Machines', '## Connecting', '## SSH access', '## Installed versions'])
    assert.ok(r.stdout.includes(`\n${section}\n`), `the sheet has ${section}`);
  assert.match(r.stdout, /^demo ready in \d+ s\.$/m);
  const password = (await tpa('secrets', dir, 'postgres_password')).stdout.trim();
  assert.ok(password.length >= 16);
  assert.ok(
    !r.stdout.includes(password) && !r.stderr.includes(password),
    'the demo never prints the password',
  );

  const s = await status();
  assert.equal(s.primaries.main, 'main-1');
  assert.deepEqual(
    s.nodes.map((n) => [n.node, n.state, n.role]),
    [
      ['main-1', 'running', 'primary'],
      ['main-2', 'running', 'replica'],
      ['main-3', 'running', 'replica'],
    ],
  );
  // and the machines say so themselves; the demo's deploy gave them data checksums
  for (const h of inv.hosts) {
    const pg = await onNode(
      h.name,
      `cd / && runuser -u postgres -- psql -X -A -t -c "SELECT pg_is_in_recovery(), current_setting('data_checksums')"`,
    );
    assert.equal(pg.stdout.trim(), `${h.role === 'primary' ? 'f' : 't'}|on`, `${h.name}: ${pg.stderr}`);
  }
});

void test('tpa demo DIR again: continues the demo, changes nothing, passes', async () => {
  const r = await demo('tpa demo (again)');
  assert.equal(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  assert.match(r.stderr, /^step 1\/5: configure — .* holds a cluster already: continuing it$/m);
  assert.match(r.stderr, /no changes: all 3 hosts are provisioned and answer SSH/);
  assert.match(r.stderr, /^.*no changes \([\d.]+ s\)/m);
  assert.match(r.stdout, /^ok: \d+ (checks )?passed in [\d.]+ s$/m);
  assert.match(r.stdout, /^demo ready in \d+ s\.$/m);
});

void test('tpa psql DIR: the primary, over TLS, the password never on a command line', async () => {
  const password = (await tpa('secrets', dir, 'postgres_password')).stdout.trim();
  const q = await tpa(
    'psql',
    dir,
    '--',
    '-X',
    '-A',
    '-t',
    '-c',
    'SELECT pg_is_in_recovery(), host(inet_server_addr()), (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())',
  );
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout.trim(), `f|${host('main-1').address}|t`, 'answered by main-1, over TLS');

  const w = await watchPsql(password, ['--', '-X', '-A', '-t', '-c', "SELECT pg_sleep(3), 'slept'"]);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout.trim(), '|slept');
  assert.ok(w.psqlPids.size > 0, "tpa's psql was seen running");
  assert.deepEqual(w.argvLeaks, [], 'no process has the password in its argv');
  assert.deepEqual(w.envLeaks, [], "psql's environment does not hold the password");
  assert.equal(w.passfiles.size, 1, 'psql reads the password from a PGPASSFILE');
  for (const [file, mode] of w.passfiles) {
    assert.equal(mode, 0o600, `${file} is 0600`);
    await assert.rejects(stat(file), `${file} is gone once psql exits`);
  }

  const replica = await tpa(
    'psql',
    dir,
    'main-2',
    '--',
    '-X',
    '-A',
    '-t',
    '-c',
    'SELECT pg_is_in_recovery()',
  );
  assert.equal(replica.code, 0, replica.stderr);
  assert.equal(replica.stdout.trim(), 't');
});

void test('every node answers tpa ping; the nodes reach each other', async () => {
  const ping = await tpa('ping', dir, '--json');
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  const report = JSON.parse(ping.stdout) as PingReport;
  assert.equal(report.ok, true);
  assert.deepEqual(
    report.hosts.map((h) => [h.node, h.role, h.ok]),
    [
      ['main-1', 'primary', true],
      ['main-2', 'replica', true],
      ['main-3', 'replica', true],
    ],
  );
  const table = await tpa('ping', dir);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /main-2\W+replica\W+10\.123\.\d+\.\d+\W+ok\W/);
  faults = await faultsFor(dir);
  // every node reaches every other before any fault
  assert.equal(await tcpOpen('main-1', 'main-2'), true);
  assert.equal(await tcpOpen('main-3', 'main-1'), true);
});

void test('poweroff: the container stops, SSH fails, ping exits 1; start: reachable again', async () => {
  const off = await tpa('fault', dir, 'main-3', 'poweroff');
  assert.equal(off.code, 0, off.stderr);
  assert.equal(await state('main-3'), 'STOPPED');
  await assert.rejects(onNode('main-3', 'true', 3000), ConnectionError);
  const ping = await tpa('ping', dir, '--json', '--timeout', '3');
  assert.equal(ping.code, 1);
  const report = JSON.parse(ping.stdout) as PingReport;
  assert.deepEqual(
    report.hosts.map((h) => h.ok),
    [true, true, false],
  );

  const on = await tpa('fault', dir, 'main-3', 'start');
  assert.equal(on.code, 0, on.stderr);
  assert.equal(await state('main-3'), 'RUNNING');
  const r = await onNode('main-3', 'hostname');
  assert.equal(r.stdout.trim(), 'main-3');
  // the veth name is fixed, so the node is back on the bridge under the same name
  assert.equal(await tcpOpen('main-3', 'main-1'), true);
});

void test('freeze: SSH times out fast with a ConnectionError; thaw: reachable again', async () => {
  await faults.freeze('main-2');
  assert.equal(await state('main-2'), 'FROZEN');
  const started = Date.now();
  await assert.rejects(onNode('main-2', 'true', 2000), (e: unknown) => {
    assert.ok(e instanceof ConnectionError, String(e));
    assert.match(e.message, /within 2 s/);
    return true;
  });
  assert.ok(Date.now() - started < 8000, `gave up after ${Date.now() - started} ms`);
  await assert.rejects(faults.kill('main-2', 'postgres'), /frozen, not running/);
  await faults.thaw('main-2');
  assert.equal(await state('main-2'), 'RUNNING');
  assert.equal((await onNode('main-2', 'hostname')).stdout.trim(), 'main-2');
});

void test('kill: a named process dies by SIGKILL, others live on', async () => {
  const pidsOf = async (name: string) =>
    (
      await onNode(
        'main-1',
        `for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = ${name} ] && echo \${d#/proc/}; done`,
      )
    ).stdout
      .trim()
      .split('\n')
      .filter(Boolean);
  // a name of its own: on a deployed node other processes run sleep (pgbouncer's follower)
  await onNode(
    'main-1',
    'cp /bin/sleep /usr/local/bin/it-sleeper && setsid nohup it-sleeper 1000 >/dev/null 2>&1 </dev/null & echo started',
  );
  assert.equal((await pidsOf('it-sleeper')).length, 1, 'it-sleeper runs');
  const listener = async () => (await onNode('main-1', 'cat /run/sshd.pid')).stdout.trim();
  const sshdBefore = await listener();
  assert.match(sshdBefore, /^\d+$/);
  await faults.kill('main-1', 'it-sleeper');
  assert.deepEqual(await pidsOf('it-sleeper'), [], 'it-sleeper is gone');
  assert.equal(await listener(), sshdBefore, 'the sshd listener lives on');
  assert.ok((await pidsOf('sshd')).includes(sshdBefore));
  await assert.rejects(faults.kill('main-1', 'it-sleeper'), /no process named it-sleeper is running/);
  const cli = await tpa('fault', dir, 'main-1', 'kill', 'no-such-proc');
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /no process named no-such-proc/);
});

void test('isolate: the node reaches no other node and none reaches it, but the host still does', async () => {
  const r = await tpa('fault', dir, 'main-1', 'isolate');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await tcpOpen('main-1', 'main-2'), false);
  assert.equal(await tcpOpen('main-1', 'main-3'), false);
  assert.equal(await tcpOpen('main-2', 'main-1'), false);
  assert.equal(await tcpOpen('main-3', 'main-1'), false);
  assert.equal(await tcpOpen('main-2', 'main-3'), true, 'the others still talk');
  assert.equal(
    (await onNode('main-1', 'hostname')).stdout.trim(),
    'main-1',
    'the host reaches the isolated node',
  );
  const ping = await tpa('ping', dir);
  assert.equal(ping.code, 0, 'tpa ping (from the host) still reaches every node');

  const healed = await tpa('fault', dir, 'heal');
  assert.equal(healed.code, 0, healed.stderr);
  assert.equal(await tcpOpen('main-1', 'main-2'), true);
  assert.equal(await tcpOpen('main-3', 'main-1'), true);
  assert.doesNotMatch((await sh('nft list tables')).stdout, new RegExp(`${prefix!}-faults`));
});

void test('partition: two nodes lose each other, both keep the third', async () => {
  await faults.partition('main-1', 'main-2');
  assert.equal(await tcpOpen('main-1', 'main-2'), false);
  assert.equal(await tcpOpen('main-2', 'main-1'), false);
  assert.equal(await tcpOpen('main-1', 'main-3'), true);
  assert.equal(await tcpOpen('main-3', 'main-1'), true);
  assert.equal(await tcpOpen('main-2', 'main-3'), true);
  assert.equal(await tcpOpen('main-3', 'main-2'), true);
  await faults.heal();
  assert.equal(await tcpOpen('main-1', 'main-2'), true);
  assert.equal(await tcpOpen('main-2', 'main-1'), true);
  // heal twice is fine: nothing to undo
  await faults.heal();
});

void test('bad requests are usage errors (exit 2)', async () => {
  const unknown = await tpa('fault', dir, 'main-1', 'explode');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown fault action explode/);
  const noNode = await tpa('fault', dir, 'main-9', 'freeze');
  assert.equal(noNode.code, 2);
  assert.match(noNode.stderr, /main-9/);
  const noArg = await tpa('fault', dir, 'main-1', 'partition');
  assert.equal(noArg.code, 2);
});

void test('deprovision with a partition in place leaves nothing of the group', async () => {
  await faults.partition('main-2', 'main-3');
  assert.match((await sh('nft list tables')).stdout, new RegExp(`${prefix!}-faults`));
  const d = await tpa('deprovision', dir, '--yes');
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual(await leftovers(prefix!, { cgroups: false }), []);
});
