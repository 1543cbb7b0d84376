/**
 * The bare platform adopts hosts that exist already. Two Debian 12 containers are made here,
 * OUTSIDE tpa (a bridge and clones of the lxc platform's base image, with the test's own prefix
 * `tpbt`), given sshd, the cluster's public key and a package source (apt through the lxc
 * platform's apt-cacher-ng, reached through the test bridge's gateway) like an admin would, and
 * then: configure --platform bare + provision adopts them (trust on first use, checks,
 * inventory), ping and ssh reach them, failed checks name the host and the check; deploy
 * (pooler none, no backups, one replica, clients only from a /29 holding the two hosts) builds
 * the cluster and a second deploy changes nothing; tpa test passes with nothing skipped, its
 * TLS and wrong-password checks run against postgres itself; data checksums are on; a client
 * outside access.client_cidrs (this host) is refused by pg_hba while one inside (main-2) gets
 * in; a changed host key is refused, and deprovision leaves the hosts running. Needs root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeployReport } from '../src/commands/deploy/index.ts';
import type { PingReport } from '../src/commands/ping/index.ts';
import type { TestReport } from '../src/commands/test/index.ts';
import { aptProxyUrl, ensureAptProxy, removeAptProxy, runningPid } from '../src/platforms/lxc/apt-proxy.ts';
import { baseImageOf, baseReady, baseRecipe, ensureBaseImage } from '../src/platforms/lxc/base-image.ts';
import { configPath } from '../src/platforms/lxc/containers.ts';
import { quote as q } from '../src/core/shell.ts';
import { HostShell } from '../src/platforms/lxc/host.ts';
import { withHostLock } from '../src/platforms/lxc/lock.ts';
import { readHostMirrors } from '../src/platforms/lxc/mirror.ts';
import {
  ensureBridge,
  hostAddress,
  pickSubnet,
  stableMac,
  tpaBridges,
  usedNetworks,
} from '../src/platforms/lxc/network.ts';
import { nodeLxcConfig } from '../src/platforms/lxc/node-files.ts';
import { cgroupMode } from '../src/platforms/lxc/preflight.ts';
import { removeCgroupDirs } from '../src/platforms/lxc/teardown.ts';
import { waitForSshBanner } from '../src/platforms/lxc/ssh-wait.ts';
import { lookupHostKey } from '../src/transport/known-hosts.ts';
import { lastJson, readInventory, run, TPA, tpaEnv } from './support/cli.ts';

/** Everything this test makes on the host starts with this (not tpa-: tpa must not own it). */
const PREFIX = `tpbt${process.pid % 100000}`;
const BRIDGE = PREFIX;
const HOSTS = [
  { node: 'main-1', container: `${PREFIX}-a`, n: 11 },
  { node: 'main-2', container: `${PREFIX}-b`, n: 12 },
] as const;

const sh = new HostShell();
let work: string;
let dir: string;
const address = new Map<string, string>();
/** the host's own address on the test bridge: outside the clients' CIDR */
let gateway: string;
/** the clients' CIDR: a /29 holding the two hosts (.11, .12) but not the host (.1) */
let clientCidr: string;
/** did this test start tpa's apt proxy (so it stops it again)? */
let startedAptProxy = false;
const saved: Record<string, string | undefined> = {};

const tpa = (...args: string[]) => run(TPA, args);

/** A shell command inside one of the test's containers (as its admin would run it). */
function inside(container: string, script: string, stdin?: string): Promise<string> {
  return sh.run(
    `lxc-attach -n ${q(container)} -- sh -c ${q(script)}`,
    { step: 'test setup', node: container },
    { ...(stdin !== undefined ? { stdin } : {}), timeoutMs: 60_000 },
  );
}

async function editConfig(edit: (text: string) => string): Promise<string> {
  const path = join(dir, 'config.yml');
  const before = await readFile(path, 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, 'the edit applies to config.yml');
  await writeFile(path, after);
  return before;
}

const restoreConfig = (text: string) => writeFile(join(dir, 'config.yml'), text);

async function deploy(label: string): Promise<DeployReport> {
  const started = Date.now();
  const r = await tpa('deploy', dir, '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  const out = lastJson<DeployReport>(r);
  console.log(`${label}: ${out.summary} (${((Date.now() - started) / 1000).toFixed(0)} s wall)`);
  return out;
}

/** Is the host's Debian mirror reached over https (apt-cacher-ng then only tunnels it)? */
async function httpsMirror(): Promise<boolean> {
  const mirrors = await readHostMirrors();
  return mirrors.main.startsWith('https:') || (mirrors.security?.startsWith('https:') ?? false);
}

/** The base image the lxc platform uses; built the way provision builds it when missing. */
async function baseImage(): Promise<string> {
  const recipe = baseRecipe(await readHostMirrors());
  const name = baseImageOf(recipe).name;
  if (await baseReady(name)) return name;
  await aptProxy();
  return (await withHostLock('base', () => ensureBaseImage(sh, recipe))).image.name;
}

/**
 * The hosts' package source, as an admin would give one: the lxc platform's own apt-cacher-ng
 * (started here when no tpa group runs it; stopped again in after()). The hosts reach its
 * address through their gateway, this host.
 */
async function aptProxy(): Promise<void> {
  if (!startedAptProxy && (await runningPid()) === undefined) startedAptProxy = true;
  const https = await httpsMirror();
  await withHostLock('network', () => ensureAptProxy(sh, { https }));
}

async function makeHost(h: (typeof HOSTS)[number], base: string, gateway: string, cgroup: 'v1' | 'v2') {
  const addr = address.get(h.node)!;
  await sh.run(`lxc-copy -n ${q(base)} -N ${q(h.container)} -s -B overlayfs`, { step: 'lxc-copy' });
  const config = await readFile(configPath(h.container), 'utf8');
  await writeFile(
    configPath(h.container),
    nodeLxcConfig(config, {
      container: h.container,
      hostname: h.container,
      bridge: BRIDGE,
      veth: h.container,
      address: addr,
      prefixLength: 24,
      gateway,
      mac: stableMac(h.container),
      memoryMb: 512,
      cpus: 1,
      cgroup,
    }),
  );
  await sh.run(`lxc-start -d -n ${q(h.container)}`, { step: 'lxc-start' });
  // the base has no host keys (every machine gets its own): make them, start sshd
  for (let i = 0; ; i++) {
    try {
      await inside(h.container, 'ssh-keygen -A >/dev/null && systemctl restart ssh');
      break;
    } catch (e) {
      if (i > 30) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  assert.ok(await waitForSshBanner(addr, 22, 30_000), `sshd of ${h.container} answers`);
}

async function containerHostKey(container: string): Promise<string> {
  return (await inside(container, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).split(' ')[1]!;
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the lxc integration tests run as root');
  work = await mkdtemp(join(tmpdir(), 'tpa-it-bare-'));
  dir = join(work, 'adopted');
  const env = tpaEnv(work);
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const base = await baseImage();
  const net = await withHostLock('network', async () => {
    const subnet = pickSubnet(await usedNetworks(sh), PREFIX);
    assert.ok(subnet, 'a free /24 for the test bridge');
    const n = { bridge: BRIDGE, subnet, gateway: hostAddress(subnet, 1) };
    await ensureBridge(sh, n);
    return n;
  });
  for (const h of HOSTS) address.set(h.node, hostAddress(net.subnet, h.n));
  gateway = net.gateway;
  clientCidr = `${hostAddress(net.subnet, 8)}/29`;
  const cgroup = await cgroupMode();
  await Promise.all(HOSTS.map((h) => makeHost(h, base, net.gateway, cgroup)));
  await aptProxy();
  for (const h of HOSTS) {
    await inside(
      h.container,
      `echo 'Acquire::http::Proxy "${aptProxyUrl()}";' > /etc/apt/apt.conf.d/01proxy`,
    );
  }
});

after(async () => {
  for (const h of HOSTS) {
    await sh.test(`lxc-stop -k -n ${q(h.container)}; lxc-destroy -n ${q(h.container)}`);
  }
  for (const h of HOSTS) await sh.test(`ip link del ${q(h.container)}`);
  await sh.test(`ip link del ${q(BRIDGE)}`);
  await removeCgroupDirs(HOSTS.map((h) => h.container));
  // tpa's apt proxy only when this test started it and no tpa group needs it now
  if (startedAptProxy) {
    await withHostLock('network', async () => {
      if ((await tpaBridges(sh)).length === 0) await removeAptProxy(sh);
    });
  }
  if (work) await rm(work, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

void test('configure --platform bare names the hosts, no pooler, clients from a /29; their admin authorises the cluster key', async () => {
  const r = await tpa(
    'configure',
    dir,
    '--platform',
    'bare',
    '--replicas',
    '1',
    '--backup',
    'none',
    '--pooler',
    'none',
    '--client-cidr',
    clientCidr,
    '--address',
    address.get('main-1')!,
    '--address',
    address.get('main-2')!,
  );
  assert.equal(r.code, 0, r.stderr);
  const publicKey = await readFile(join(dir, 'ssh', 'id_ed25519.pub'), 'utf8');
  assert.match(publicKey, /^ssh-ed25519 /);
  for (const h of HOSTS) {
    await inside(
      h.container,
      'mkdir -p /root/.ssh && chmod 700 /root/.ssh && cat > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys',
      publicKey,
    );
  }
});

void test('a host that is not Debian 12 is refused, naming the host and the check', async () => {
  const b = HOSTS[1].container;
  await inside(
    b,
    `rm -f /etc/os-release && printf 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\\nID=debian\\nVERSION_ID="11"\\n' > /etc/os-release`,
  );
  try {
    const r = await tpa('provision', dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /main-2.*\[os\] runs Debian GNU\/Linux 11 \(bullseye\).*not Debian 12/);
    assert.match(r.stderr, /hint: tpa supports Debian 12/);
    assert.doesNotMatch(r.stderr, /main-1: failed/);
    const inv = await readFile(join(dir, 'inventory.json'), 'utf8').catch(() => undefined);
    assert.equal(inv, undefined, 'no inventory when a host fails its checks');
    const known = await readFile(join(dir, 'known_hosts'), 'utf8').catch(() => '');
    assert.equal(known.trim(), '', 'no host key is trusted when adoption failed');
  } finally {
    await inside(b, 'ln -sf ../usr/lib/os-release /etc/os-release');
  }
});

void test('a wrong SSH port is a connection error naming the host', async () => {
  const a = address.get('main-1')!;
  const original = await editConfig((t) => t.replace(`address: ${a} }`, `address: ${a}, ssh_port: 2222 }`));
  try {
    const r = await tpa('provision', dir, '--json');
    assert.equal(r.code, 1);
    // progress events are JSON lines; the error object comes last, pretty-printed
    const lines = r.stdout.trimEnd().split('\n');
    const out = JSON.parse(lines.slice(lines.lastIndexOf('{')).join('\n')) as {
      ok: boolean;
      host?: string;
      message: string;
    };
    assert.equal(out.ok, false);
    assert.equal(out.host, 'main-1');
    assert.match(
      out.message,
      new RegExp(`main-1: cannot connect to root@${a.replace(/\./g, '\\.')}:2222: ECONNREFUSED`),
    );
  } finally {
    await restoreConfig(original);
  }
});

void test('provision adopts both hosts: host keys trusted on first use, inventory written', async () => {
  const r = await tpa('provision', dir);
  assert.equal(r.code, 0, r.stderr);
  for (const h of HOSTS) {
    assert.match(r.stderr, new RegExp(`${h.node}: first contact with .*ssh-ed25519 host key SHA256:`));
  }
  const inv = await readInventory(dir);
  assert.equal(inv.platform, 'bare');
  assert.equal(inv.group, 'adopted');
  assert.deepEqual(
    inv.hosts.map((h) => [h.name, h.role, h.address, h.sshUser, h.sshPort, h.kind, h.cluster]),
    [
      ['main-1', 'primary', address.get('main-1'), 'root', 22, 'postgres', 'main'],
      ['main-2', 'replica', address.get('main-2'), 'root', 22, 'postgres', 'main'],
    ],
  );
  for (const h of inv.hosts) {
    assert.ok(h.cpus >= 1 && h.memoryMb > 0, 'sizes come from the host');
    assert.equal(h.sshKey, undefined, 'reached with the cluster key from the vault');
  }
  for (const h of HOSTS) {
    const recorded = lookupHostKey(join(dir, 'known_hosts'), address.get(h.node)!, 22);
    assert.equal(recorded?.key, await containerHostKey(h.container), `${h.node}'s real host key is recorded`);
  }
  const tracked = await run('git', ['-C', dir, 'ls-files', 'inventory.json', 'known_hosts']);
  assert.deepEqual(tracked.stdout.trim().split('\n').sort(), ['inventory.json', 'known_hosts']);

  const again = await tpa('provision', dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /no changes/);
  assert.doesNotMatch(again.stderr, /first contact/);
});

void test('tpa ping and tpa ssh reach the adopted hosts', async () => {
  const ping = await tpa('ping', dir, '--json');
  assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  const report = JSON.parse(ping.stdout) as PingReport;
  assert.deepEqual(
    report.hosts.map((h) => [h.node, h.ok]),
    [
      ['main-1', true],
      ['main-2', true],
    ],
  );
  const hostname = await tpa('ssh', dir, 'main-2', '--', 'hostname');
  assert.equal(hostname.code, 0, hostname.stderr);
  assert.equal(hostname.stdout.trim(), HOSTS[1].container);
  const code = await tpa('ssh', dir, 'main-1', '--', 'exit', '3');
  assert.equal(code.code, 3);
  const fault = await tpa('fault', dir, 'main-1', 'freeze');
  assert.equal(fault.code, 2);
  assert.match(fault.stderr, /platform bare cannot inject faults/);
});

void test('a login without password-less sudo fails the sudo check; with sudo it is adopted', async () => {
  const a = HOSTS[0].container;
  await inside(
    a,
    'id tpbtuser >/dev/null 2>&1 || useradd -m -s /bin/sh tpbtuser; install -d -m 700 -o tpbtuser /home/tpbtuser/.ssh; ' +
      'cp /root/.ssh/authorized_keys /home/tpbtuser/.ssh/ && chown tpbtuser /home/tpbtuser/.ssh/authorized_keys',
  );
  const original = await editConfig((t) =>
    t.replace(
      `address: ${address.get('main-1')!} }`,
      `address: ${address.get('main-1')!}, ssh_user: tpbtuser }`,
    ),
  );
  try {
    const r = await tpa('provision', dir);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /main-1.*\[sudo\] user tpbtuser is not root and cannot use sudo without a password/,
    );
    await inside(
      a,
      `echo 'tpbtuser ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/tpbtuser && chmod 440 /etc/sudoers.d/tpbtuser`,
    );
    const ok = await tpa('provision', dir);
    assert.equal(ok.code, 0, ok.stderr);
    const inv = await readInventory(dir);
    assert.equal(inv.hosts[0]?.sshUser, 'tpbtuser');
    const whoami = await tpa('ssh', dir, 'main-1', '--', 'whoami');
    assert.equal(whoami.stdout.trim(), 'tpbtuser');
  } finally {
    await restoreConfig(original);
  }
  const back = await tpa('provision', dir);
  assert.equal(back.code, 0, back.stderr);
});

void test('deploy builds the cluster on the bare hosts; a second deploy changes nothing', async () => {
  const first = await deploy('deploy (first)');
  assert.ok(first.changes > 0);
  const again = await deploy('deploy (again)');
  assert.equal(again.changes, 0, JSON.stringify(again.applied));
  assert.deepEqual(again.handlers, []);
});

void test('tpa test passes with nothing skipped; TLS and wrong-password checks run on both nodes', async () => {
  const r = await tpa('test', dir, '--json');
  const report = lastJson<TestReport>(r);
  const failed = report.results.filter((x) => x.status !== 'pass');
  assert.deepEqual(failed, [], 'every check passes');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(report.ok, true);
  assert.equal(report.summary.skip, 0);
  for (const check of ['tls-required', 'wrong-password-refused']) {
    assert.deepEqual(
      report.results
        .filter((x) => x.check === check)
        .map((x) => [x.node, x.status])
        .sort(),
      [
        ['main-1', 'pass'],
        ['main-2', 'pass'],
      ],
      `${check}: ${JSON.stringify(report.results.filter((x) => x.check === check))}`,
    );
  }
});

void test("data checksums are on on both nodes (tpa's deploy enabled them)", async () => {
  for (const h of HOSTS) {
    const r = await tpa(
      'ssh',
      dir,
      h.node,
      '--',
      `cd / && runuser -u postgres -- psql -X -A -t -c 'SHOW data_checksums'`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'on', `${h.node}: data_checksums`);
  }
});

void test('a client outside access.client_cidrs is refused by pg_hba; one inside gets in', async () => {
  const main1 = address.get('main-1')!;
  const password = (await tpa('secrets', dir, 'postgres_password')).stdout.trim();
  assert.ok(password.length > 0);
  const pgpass = `${main1}:5432:*:postgres:${password}\n`;
  const conninfo = `host=${main1} port=5432 dbname=postgres user=postgres sslmode=require connect_timeout=5`;
  const query = "SELECT 'in from ' || host(inet_client_addr())";

  // from this host (the bridge's gateway, outside the /29): the right password, TLS, refused
  const passfile = join(work, 'pgpass');
  await writeFile(passfile, pgpass, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { ...process.env, PGPASSFILE: passfile };
  delete env.PGPASSWORD;
  const outside = await run('psql', ['-X', '-A', '-t', '-d', conninfo, '-c', query], {
    env,
    timeoutMs: 30_000,
  });
  await rm(passfile, { force: true });
  assert.equal(outside.code, 2, `${outside.stdout}${outside.stderr}`);
  assert.match(
    outside.stderr,
    new RegExp(`no pg_hba\\.conf entry for host "${gateway.replace(/\./g, '\\.')}", user "postgres"`),
  );

  // the same connection from main-2 (inside the /29): in; the password only in a 0600 file there
  const remote = '/root/.it-pgpass';
  const b = HOSTS[1].container;
  await inside(b, `umask 077 && cat > ${remote}`, pgpass);
  try {
    const r = await inside(b, `PGPASSFILE=${remote} psql -X -A -t -d '${conninfo}' -c "${query}"`);
    assert.equal(r.trim(), `in from ${address.get('main-2')!}`);
  } finally {
    await inside(b, `rm -f ${remote}`);
  }
});

void test('after first contact host keys are strict: a changed key is refused', async () => {
  const b = HOSTS[1].container;
  await inside(b, 'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && systemctl restart ssh');
  assert.ok(await waitForSshBanner(address.get('main-2')!, 22, 30_000));
  const ping = await tpa('ping', dir, '--json');
  assert.equal(ping.code, 1);
  const report = JSON.parse(ping.stdout) as PingReport;
  assert.equal(report.hosts[0]?.ok, true);
  assert.equal(report.hosts[1]?.ok, false);
  assert.match(report.hosts[1]?.error ?? '', /not the one recorded/);
  const prov = await tpa('provision', dir);
  assert.equal(prov.code, 1);
  assert.match(prov.stderr, /main-2.*host key .* is not the one recorded/);
  const ssh = await tpa('ssh', dir, 'main-2', '--', 'true');
  assert.equal(ssh.code, 255, 'the system ssh refuses it too');
});

void test('deprovision forgets the hosts and leaves them running', async () => {
  const r = await tpa('deprovision', dir, '--yes');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /nothing is removed on the hosts/);
  const inv = await readFile(join(dir, 'inventory.json'), 'utf8').catch(() => undefined);
  assert.equal(inv, undefined);
  for (const h of HOSTS) {
    const state = await sh.run(`lxc-info -n ${q(h.container)} -s`, { step: 'state' });
    assert.match(state, /RUNNING/);
    assert.ok(await waitForSshBanner(address.get(h.node)!, 22, 5000), `${h.node} still answers`);
  }
});
