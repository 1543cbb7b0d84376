import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport } from '../../transport/local.ts';
import type { ExecOptions, ExecResult, Transport } from '../../transport/transport.ts';
import type { Inventory } from '../platform.ts';
import { testHost } from '../../../test/support/fixtures.ts';
import { faultTableName, killScript, LxcFaults, parseDropRules } from './faults.ts';
import { HostShell } from './host.ts';

const inventory: Inventory = {
  group: 'g',
  platform: 'lxc',
  network: { prefix: 'tpa-00abcd' },
  hosts: ['a', 'b', 'c'].map((n) =>
    testHost({
      name: n,
      role: 'replica',
      cluster: undefined,
      address: '10.0.0.1',
      platformId: `tpa-00abcd-${n}`,
    }),
  ),
};

void test('the nft table of the faults starts with the group prefix', () => {
  assert.equal(faultTableName(inventory), 'tpa-00abcd-faults');
  assert.throws(() => faultTableName({ ...inventory, network: {} }), /records no lxc prefix/);
});

void test('drop rules are read back from an nft listing', () => {
  const listing = `table bridge tpa_g {
\tchain isolation {
\t\ttype filter hook forward priority filter; policy accept;
\t\tiifname "vetha" oifname "vethb" drop
\t\tiifname "vethb" oifname "vetha" drop
\t}
}`;
  assert.deepEqual(parseDropRules(listing), [
    ['vetha', 'vethb'],
    ['vethb', 'vetha'],
  ]);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie still answers kill 0; it is dead for our purpose
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

void test('the kill script kills the top-most process of a name, not its same-named children', async () => {
  // a copy of sh under a name no other process on this machine has
  const dir = mkdtempSync(join(tmpdir(), 'tpa-kill-'));
  const name = `tpak${process.pid % 100000}`;
  const bin = join(dir, name);
  copyFileSync('/bin/sh', bin);
  const local = new LocalTransport();
  let inner: number | undefined;
  try {
    // a process named NAME (parent: node) with a child of another name (sleep)
    const outer = spawn(bin, ['-c', 'sleep 300 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    inner = await new Promise<number>((resolve) =>
      outer.stdout.once('data', (d: Buffer) => resolve(Number(d))),
    );
    assert.ok(outer.pid);
    const exited = new Promise((r) => outer.once('exit', r));
    const r = await local.exec(killScript(name), { check: false });
    assert.equal(r.exitCode, 0, r.stderr);
    await exited;
    assert.equal(alive(outer.pid), false, 'the outer process was killed');
    assert.equal(alive(inner), true, 'a process of another name was left alone');
    const none = await local.exec(killScript(name), { check: false });
    assert.equal(none.exitCode, 3, 'nothing left to kill is exit 3');
  } finally {
    if (inner !== undefined && alive(inner)) process.kill(inner, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the kill script spares a child that has the same name as its parent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-kill-'));
  const name = `tpaj${process.pid % 100000}`;
  const bin = join(dir, name);
  copyFileSync('/bin/sh', bin);
  const local = new LocalTransport();
  let child: number | undefined;
  try {
    // outer sh named NAME runs an inner sh named NAME (which keeps its name: it runs a loop)
    const outer = spawn(bin, ['-c', `${bin} -c 'echo $$; while :; do sleep 1; done' & wait`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    child = await new Promise<number>((resolve) =>
      outer.stdout.once('data', (d: Buffer) => resolve(Number(d))),
    );
    const exited = new Promise((r) => outer.once('exit', r));
    const r = await local.exec(killScript(name), { check: false });
    assert.equal(r.exitCode, 0, r.stderr);
    await exited;
    await sleep(100);
    assert.equal(alive(child), true, 'the same-named child of the killed process survives');
  } finally {
    if (child !== undefined && alive(child)) process.kill(child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Plays lxc-info and nft for the partition logic; records what would run. */
class ScriptedHost implements Transport {
  readonly host = 'localhost';
  readonly commands: string[] = [];
  readonly rules: string[] = [];
  tables: string[] = [];
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.commands.push(command);
    const ok = (stdout: string): Promise<ExecResult> =>
      Promise.resolve({ stdout, stderr: '', exitCode: 0, signal: null });
    let m: RegExpExecArray | null;
    if (/^lxc-info -n \S+ -s$/.test(command)) return ok('State:          RUNNING\n');
    // no lxc config on this machine for these containers: the Link line is where the veth is found
    if ((m = /^lxc-info -n (\S+)$/.exec(command))) return ok(`State: RUNNING\nLink:           v-${m[1]}\n`);
    if (command.startsWith('nft add table')) {
      this.tables = ['tpa-00abcd-faults'];
      return ok('');
    }
    if (command.startsWith('nft list chain')) return ok(this.rules.join('\n'));
    if (command === 'nft list tables bridge')
      return ok(this.tables.map((t) => `table bridge ${t}\n`).join(''));
    if (command === 'nft -f -') {
      for (const line of String(opts.stdin).trim().split('\n'))
        this.rules.push(line.replace(/^add rule bridge \S+ \S+ /, ''));
      return ok('');
    }
    if (command.startsWith('nft delete table')) {
      this.tables = [];
      this.rules.length = 0;
      return ok('');
    }
    return Promise.reject(new Error(`unexpected command ${command}`));
  }
  upload(): Promise<void> {
    return Promise.reject(new Error('no upload'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

void test('isolate drops both directions between the node and every other node, once', async () => {
  const host = new ScriptedHost();
  const faults = new LxcFaults(inventory, { shell: new HostShell(host) });
  await faults.isolate('a');
  await faults.isolate('a');
  await faults.partition('b', 'a');
  assert.deepEqual(host.rules.sort(), [
    'iifname "v-tpa-00abcd-a" oifname "v-tpa-00abcd-b" drop',
    'iifname "v-tpa-00abcd-a" oifname "v-tpa-00abcd-c" drop',
    'iifname "v-tpa-00abcd-b" oifname "v-tpa-00abcd-a" drop',
    'iifname "v-tpa-00abcd-c" oifname "v-tpa-00abcd-a" drop',
  ]);
  await faults.heal();
  assert.ok(host.commands.includes('nft delete table bridge tpa-00abcd-faults'));
  const before = host.commands.length;
  await faults.heal();
  assert.equal(host.commands.slice(before).filter((c) => c.startsWith('nft delete')).length, 0);
});

void test('an unknown node is an error naming the nodes there are', async () => {
  const faults = new LxcFaults(inventory, { shell: new HostShell(new ScriptedHost()) });
  await assert.rejects(faults.partition('a', 'zz'), (e: Error & { hint?: string }) => {
    assert.match(e.message, /no node called zz/);
    assert.match(e.hint ?? '', /a, b, c/);
    return true;
  });
});
