/**
 * Fault injection on the lxc platform, observed from outside as a drill would: a 3-node group
 * (no deploy needed), then power off / start, freeze / thaw, kill a process, isolate a node,
 * partition two nodes and heal, each checked over SSH from the host and with TCP between the
 * nodes. Ends with deprovision and a check that nothing of the group is left.
 * Needs root on a Debian host; shares its group with no other test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionError } from '../src/core/errors.ts';
import { sshTargetFor } from '../src/clusterdir/connect.ts';
import { faultsFor } from '../src/commands/fault/index.ts';
import type { PingReport } from '../src/commands/ping/index.ts';
import type { FaultInjector, Inventory } from '../src/platforms/platform.ts';
import { SshTransport } from '../src/transport/ssh.ts';
import { leftovers, readInventory, removePrefixed, run, sh, TPA, tpaEnv } from './support/cli.ts';

const GROUP = `it-faults-${process.pid}`;

let work: string;
let dir: string;
let prefix: string | undefined;
let inv: Inventory;
let faults: FaultInjector;
const saved: Record<string, string | undefined> = {};

const tpa = (...args: string[]) => run(TPA, args);

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

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the lxc integration tests run as root');
  work = await mkdtemp(join(tmpdir(), 'tpa-it-faults-'));
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
  if (prefix) await removePrefixed(prefix);
  if (work) await rm(work, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

void test('a 3-node group is provisioned and every node answers tpa ping', async () => {
  const c = await tpa('configure', dir, '--replicas', '2', '--backup', 'none');
  assert.equal(c.code, 0, c.stderr);
  const p = await tpa('provision', dir);
  assert.equal(p.code, 0, `${p.stdout}\n${p.stderr}`);
  inv = await readInventory(dir);
  prefix = inv.network?.prefix;
  assert.match(prefix ?? '', /^tpa-[0-9a-f]{6}$/);
  assert.deepEqual(
    inv.hosts.map((h) => h.name),
    ['main-1', 'main-2', 'main-3'],
  );
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
  await assert.rejects(faults.kill('main-2', 'sleep'), /frozen, not running/);
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
  await onNode('main-1', 'setsid nohup sleep 1000 >/dev/null 2>&1 </dev/null & echo started');
  assert.equal((await pidsOf('sleep')).length, 1, 'sleep runs');
  const listener = async () => (await onNode('main-1', 'cat /run/sshd.pid')).stdout.trim();
  const sshdBefore = await listener();
  assert.match(sshdBefore, /^\d+$/);
  await faults.kill('main-1', 'sleep');
  assert.deepEqual(await pidsOf('sleep'), [], 'sleep is gone');
  assert.equal(await listener(), sshdBefore, 'the sshd listener lives on');
  assert.ok((await pidsOf('sshd')).includes(sshdBefore));
  await assert.rejects(faults.kill('main-1', 'sleep'), /no process named sleep is running/);
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
