/**
 * The lxc platform end to end, through the CLI as a user runs it: configure a 4-node group
 * (primary, two replicas, a shared barman server), provision it, reach every node over SSH
 * with the recorded host key, check names and memory limits, provision again (no changes),
 * deprovision, and check that nothing of the group is left on the host.
 * Needs root on a Debian host; the base image is built on the first run and cached.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupHostKey } from '../src/transport/known-hosts.ts';
import { SshTransport } from '../src/transport/ssh.ts';
import { lastJson, leftovers, readInventory, removePrefixed, run, sh, TPA, tpaEnv } from './support/cli.ts';

const GROUP = `it-prov-${process.pid}`;

let work: string;
let dir: string;
let env: NodeJS.ProcessEnv;
let prefix: string | undefined;
let orphanPrefix: string | undefined;

const tpa = (...args: string[]) => run(TPA, args, { env });

const inventory = () => readInventory(dir);

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the lxc integration tests run as root');
  work = await mkdtemp(join(tmpdir(), 'tpa-it-prov-'));
  dir = join(work, GROUP);
  // the vault key and the cached private key stay inside the test's own directory
  env = { ...process.env, ...tpaEnv(work) };
});

after(async () => {
  // whatever happened above: nothing of this group may stay on the host
  if (dir) await tpa('deprovision', dir, '--yes');
  if (prefix) await removePrefixed(prefix);
  if (orphanPrefix) await removePrefixed(orphanPrefix);
  if (work) await rm(work, { recursive: true, force: true });
});

void test('configure a group of 4 nodes, one of them medium-sized', async () => {
  const r = await tpa('configure', dir, '--replicas', '2', '--backup', 'shared', '--instance-type', 'small');
  assert.equal(r.code, 0, r.stderr);
  const path = join(dir, 'config.yml');
  const text = await readFile(path, 'utf8');
  const edited = text.replace(
    '{ name: main-2, role: replica }',
    '{ name: main-2, role: replica, instance_type: medium }',
  );
  assert.notEqual(edited, text, 'config.yml lists main-2 as expected');
  await writeFile(path, edited);
});

void test('provision: 4 containers running, reachable over SSH with the recorded host keys', async () => {
  const started = Date.now();
  const r = await tpa('provision', dir, '--json');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const out = lastJson<{ ok: boolean; changes: string[]; commit: string | null }>(r);
  assert.equal(out.ok, true);
  assert.ok(out.changes.length > 0);
  assert.ok(out.commit, 'provision commits inventory.json and known_hosts');
  console.log(`provision took ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const inv = await inventory();
  prefix = inv.network?.prefix;
  assert.match(prefix ?? '', /^tpa-[0-9a-f]{6}$/);
  assert.deepEqual(
    inv.hosts.map((h) => [h.name, h.role]),
    [
      ['main-1', 'primary'],
      ['main-2', 'replica'],
      ['main-3', 'replica'],
      ['backup-1', 'barman'],
    ],
  );
  const tracked = await run('git', ['-C', dir, 'ls-files', 'inventory.json', 'known_hosts']);
  assert.deepEqual(tracked.stdout.trim().split('\n').sort(), ['inventory.json', 'known_hosts']);

  const knownHosts = join(dir, 'known_hosts');
  for (const h of inv.hosts) {
    assert.equal(h.platformId, `${prefix}-${h.name}`);
    const state = await sh(`lxc-info -n ${h.platformId} -s`);
    assert.match(state.stdout, /RUNNING/, `${h.name} runs: ${state.stdout} ${state.stderr}`);
    const recorded = lookupHostKey(knownHosts, h.address, 22);
    assert.ok(recorded, `known_hosts has ${h.name}`);
    assert.ok(h.sshKey, `${h.name} has a key path`);
    // strict: a key other than the recorded one fails the connection
    const t = new SshTransport(
      {
        host: h.name,
        address: h.address,
        port: h.sshPort,
        user: h.sshUser,
        privateKey: await readFile(h.sshKey),
        hostKey: recorded.key,
      },
      { knownHostsPath: knownHosts },
    );
    try {
      const hostname = await t.exec('hostname');
      assert.equal(hostname.stdout.trim(), h.name);
      const hosts = (await t.exec('cat /etc/hosts')).stdout;
      for (const other of inv.hosts) {
        assert.match(
          hosts,
          new RegExp(`^${other.address.replace(/\./g, '\\.')}\\s+${other.name}$`, 'm'),
          `${h.name} knows ${other.name}`,
        );
      }
      assert.match(hosts, new RegExp(`^${inv.network!.gateway!.replace(/\./g, '\\.')}\\s+tpa-host$`, 'm'));
      const machineId = (await t.exec('cat /etc/machine-id')).stdout.trim();
      assert.match(machineId, /^[0-9a-f]{32}$/);
    } finally {
      await t.close();
    }
  }
  // every node its own machine-id and host key
  const keys = inv.hosts.map((h) => lookupHostKey(knownHosts, h.address, 22)?.key);
  assert.equal(new Set(keys).size, inv.hosts.length);
});

void test('memory and cpu limits follow the instance types', async () => {
  const inv = await inventory();
  for (const h of inv.hosts) {
    const wanted = h.name === 'main-2' ? 2048 : 1024;
    assert.equal(h.memoryMb, wanted);
    const v1 = await sh(`lxc-cgroup -n ${h.platformId} memory.limit_in_bytes`);
    const value = v1.code === 0 ? v1.stdout : (await sh(`lxc-cgroup -n ${h.platformId} memory.max`)).stdout;
    assert.equal(Number(value.trim()), wanted * 1024 * 1024, `${h.name} memory limit`);
    const quota = await sh(`lxc-cgroup -n ${h.platformId} cpu.cfs_quota_us`);
    const cpu =
      quota.code === 0
        ? quota.stdout.trim()
        : (await sh(`lxc-cgroup -n ${h.platformId} cpu.max`)).stdout.split(' ')[0]!;
    assert.equal(Number(cpu), h.cpus * 100000, `${h.name} cpu quota`);
  }
});

void test('provision again: no changes, no commit', async () => {
  const r = await tpa('provision', dir, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = lastJson<{ changes: string[]; commit: string | null }>(r);
  assert.deepEqual(out.changes, []);
  assert.equal(out.commit, null);
  const human = await tpa('provision', dir);
  assert.match(human.stderr, /no changes/);
});

void test('a stopped node is started again by provision', async () => {
  const inv = await inventory();
  const node = inv.hosts[2]!;
  assert.equal((await sh(`lxc-stop -k -n ${node.platformId}`)).code, 0);
  const r = await tpa('provision', dir, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = lastJson<{ changes: string[] }>(r);
  assert.deepEqual(out.changes, [`${node.name}: started`]);
  assert.match((await sh(`lxc-info -n ${node.platformId} -s`)).stdout, /RUNNING/);
});

void test('a group whose directory was deleted is an orphan: listed, removed by deprovision --orphans, and only it', async () => {
  const lost = join(work, 'lost-group');
  const c = await tpa('configure', lost, '--replicas', '0', '--backup', 'none', '--failover-manager', 'none');
  assert.equal(c.code, 0, c.stderr);
  const p = await tpa('provision', lost, '--json');
  assert.equal(p.code, 0, `${p.stdout.slice(-2000)}\n${p.stderr.slice(-2000)}`);
  orphanPrefix = (await readInventory(lost)).network?.prefix;
  assert.ok(orphanPrefix);
  assert.ok((await leftovers(orphanPrefix, { cgroups: false })).length > 0);
  // with its directory intact it is no orphan
  const none = await tpa('deprovision', '--orphans');
  assert.doesNotMatch(none.stdout + none.stderr, new RegExp(orphanPrefix));
  await rm(lost, { recursive: true, force: true });

  // listed without --yes (no terminal): exit 2, nothing removed
  const listed = await tpa('deprovision', '--orphans');
  assert.equal(listed.code, 2, listed.stderr);
  assert.match(listed.stdout + listed.stderr, new RegExp(`${orphanPrefix}.*lost-group`));
  assert.match(listed.stderr, /pass --yes/);
  assert.ok((await leftovers(orphanPrefix, { cgroups: false })).length > 0);

  const removed = await tpa('deprovision', '--orphans', '--yes', '--json');
  assert.equal(removed.code, 0, removed.stderr);
  const out = lastJson<{ orphans: { id: string; changes: string[] }[] }>(removed);
  assert.ok(out.orphans.some((o) => o.id === orphanPrefix && o.changes.length > 0));
  assert.deepEqual(await leftovers(orphanPrefix), []);
  // the group whose directory exists is untouched
  assert.ok(!out.orphans.some((o) => o.id === prefix));
  const alive = await run('lxc-ls', ['-1', '--running']);
  assert.equal(alive.stdout.split('\n').filter((x) => x.startsWith(`${prefix!}-`)).length, 4);
});

void test('deprovision refuses without --yes when there is no terminal', async () => {
  const r = await tpa('deprovision', dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--yes/);
  assert.match((await sh(`lxc-info -n ${prefix}-main-1 -s`)).stdout, /RUNNING/, 'nothing was destroyed');
});

void test('deprovision removes everything of the group, and only that', async () => {
  assert.ok(prefix);
  // what fault injection leaves behind: an nft table named with the group prefix
  assert.equal((await sh(`nft add table bridge ${prefix}-faults`)).code, 0);
  const base = (await inventory()).network?.base;
  const r = await tpa('deprovision', dir, '--yes', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await leftovers(prefix), []);
  // what it removed is the group's (other groups may come and go on this host meanwhile)
  const out = lastJson<{ changes: string[] }>(r);
  const objects = out.changes.flatMap((c) => [
    ...(/destroyed (\S+)/.exec(c)?.slice(1) ?? []),
    ...(/removed (?:bridge|interface) (\S+)/.exec(c)?.slice(1) ?? []),
    ...(/removed nft table \S+ (\S+)/.exec(c)?.slice(1) ?? []),
  ]);
  assert.ok(objects.length >= 6, `containers, bridge and nft table among: ${out.changes.join('; ')}`);
  for (const o of objects) assert.ok(o.startsWith(prefix), `${o} belongs to the group`);
  assert.match((await sh(`lxc-info -n ${base} -s`)).stdout, /STOPPED/, 'the shared base image stays');
  const files = await run('git', ['-C', dir, 'ls-files']);
  assert.doesNotMatch(files.stdout, /inventory\.json|known_hosts/);
});
