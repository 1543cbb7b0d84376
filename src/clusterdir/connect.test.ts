/**
 * connect, ping and ssh against real sshd servers on loopback (the transport's test sshd):
 * a cluster directory with config.yml, inventory.json and known_hosts, as provision leaves it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostKeyMismatchError } from '../core/errors.ts';
import type { Inventory, InventoryHost } from '../platforms/platform.ts';
import { testHost } from '../../test/support/fixtures.ts';
import { formatKnownHostsLine } from '../transport/known-hosts.ts';
import { freePort, sshdSkipReason, startTestSshd, type TestSshd } from '../../test/support/sshd.ts';
import { connectCluster } from './connect.ts';
import { renderInventory } from './inventory.ts';
import { pingCluster } from '../commands/ping/index.ts';
import { runSsh, sshInvocation } from '../commands/ssh/index.ts';

const skip = sshdSkipReason();
let a: TestSshd;
let b: TestSshd;
const dirs: string[] = [];

before(async () => {
  if (skip) return;
  a = await startTestSshd();
  b = await startTestSshd();
});

after(async () => {
  await a?.stop();
  await b?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const host = (name: string, role: 'primary' | 'replica', port: number) =>
  testHost({ name, role, address: '127.0.0.1', sshPort: port, sshKey: 'id_test' });

/** A provisioned-looking bare cluster directory; `keys` decides what known_hosts says. */
function clusterDir(hosts: InventoryHost[], knownHosts: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-connect-'));
  dirs.push(dir);
  const nodes = hosts
    .map(
      (h) =>
        `      - { name: ${h.name}, role: ${h.role}, address: ${h.address}, ssh_port: ${h.sshPort}, ssh_key: id_test }`,
    )
    .join('\n');
  writeFileSync(
    join(dir, 'config.yml'),
    `name: t1\nplatform: bare\nbackup: { mode: none }\nclusters:\n  - name: main\n    pooler: none\n    nodes:\n${nodes}\n`,
  );
  const inv: Inventory = { group: 't1', platform: 'bare', hosts };
  writeFileSync(join(dir, 'inventory.json'), renderInventory(inv));
  writeFileSync(join(dir, 'known_hosts'), knownHosts.join('\n') + '\n');
  writeFileSync(join(dir, 'id_test'), a.clientKey, { mode: 0o600 });
  return dir;
}

const line = (s: TestSshd) => formatKnownHostsLine(s.address, s.port, s.hostKeyType, s.hostKey);

void test('connectCluster gives a pool whose transports run commands on each host', { skip }, async () => {
  // b authorises a's client key too, so one key file serves both
  await b.stop();
  b = await startTestSshd({ authorize: [a.clientPublicKey] });
  const dir = clusterDir([host('n1', 'primary', a.port), host('n2', 'replica', b.port)], [line(a), line(b)]);
  const access = await connectCluster(dir);
  try {
    assert.deepEqual(access.hosts, ['n1', 'n2']);
    assert.equal(access.config.name, 't1');
    const outcomes = await access.pool.all(
      access.hosts,
      async (t) => (await t.exec('echo $SSH_CONNECTION')).stdout,
    );
    assert.ok(outcomes.every((o) => o.ok));
    const ports = outcomes.map((o) => (o.ok ? o.value.trim().split(' ')[3] : ''));
    assert.deepEqual(ports, [String(a.port), String(b.port)]);
  } finally {
    await access.close();
  }
});

void test(
  'ping reports every host, and an unreachable one without stopping the others',
  { skip },
  async () => {
    const closed = await freePort();
    const dir = clusterDir(
      [host('n1', 'primary', a.port), host('n2', 'replica', closed)],
      [line(a), formatKnownHostsLine('127.0.0.1', closed, a.hostKeyType, a.hostKey)],
    );
    const started = Date.now();
    const report = await pingCluster(dir, { timeoutMs: 3000 });
    assert.ok(Date.now() - started < 8000, 'a refused port fails fast');
    assert.equal(report.ok, false);
    const [n1, n2] = report.hosts;
    assert.equal(n1?.ok, true);
    assert.equal(n1?.role, 'primary');
    assert.ok(typeof n1?.latencyMs === 'number' && n1.latencyMs >= 0);
    assert.ok(typeof n1?.connectMs === 'number' && n1.connectMs >= 0);
    assert.equal(n2?.ok, false);
    assert.match(n2?.error ?? '', /ECONNREFUSED/);
    assert.doesNotMatch(n2?.error ?? '', /^n2:/);
  },
);

void test(
  'a host key other than the recorded one is refused; an unrecorded host is not trusted',
  { skip },
  async () => {
    const dir = clusterDir(
      [host('n1', 'primary', a.port), host('n2', 'replica', b.port)],
      // n1's line holds b's key: someone else answers at n1's address
      [formatKnownHostsLine('127.0.0.1', a.port, b.hostKeyType, b.hostKey)],
    );
    const report = await pingCluster(dir, { timeoutMs: 3000 });
    assert.equal(report.ok, false);
    assert.match(report.hosts[0]?.error ?? '', /not the one recorded/);
    assert.match(report.hosts[1]?.error ?? '', /no SSH host key recorded/);
    assert.match(report.hosts[1]?.hint ?? '', /tpa provision/);
    const access = await connectCluster(dir);
    try {
      await assert.rejects(access.pool.forHost('n1').exec('true'), HostKeyMismatchError);
    } finally {
      await access.close();
    }
  },
);

void test('tpa ssh runs the system ssh with the cluster key and strict known_hosts', { skip }, async () => {
  const dir = clusterDir([host('n1', 'primary', a.port)], [line(a)]);
  const inv = await sshInvocation(dir, 'n1', ['exit', '7']);
  assert.ok(inv.args.includes('StrictHostKeyChecking=yes'));
  assert.ok(inv.args.includes(`UserKnownHostsFile=${join(dir, 'known_hosts')}`));
  assert.equal(inv.args[inv.args.indexOf('-i') + 1], join(dir, 'id_test'));
  assert.equal(await runSsh(dir, 'n1', ['exit', '7']), 7);
  const marker = join(dirs[dirs.length - 1]!, 'ran');
  assert.equal(await runSsh(dir, 'n1', ['touch', marker]), 0);
  assert.ok(
    (await import('node:fs')).existsSync(marker),
    'the command ran on the host (the same machine here)',
  );
  // with a wrong known_hosts line, ssh itself refuses (exit 255)
  writeFileSync(
    join(dir, 'known_hosts'),
    formatKnownHostsLine('127.0.0.1', a.port, b.hostKeyType, b.hostKey) + '\n',
  );
  assert.equal(await runSsh(dir, 'n1', ['true']), 255);
  await assert.rejects(sshInvocation(dir, 'nope'), /no host called nope/);
});
