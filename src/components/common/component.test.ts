import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Resource } from '../../plan/types.ts';
import {
  deployContext,
  facts,
  groupConfig,
  groupInventory,
  node,
} from '../../../test/support/postgres-fixtures.ts';
import { adminKeys, commonComponent, hostsLines, PROBES, sysctlProbe, sysctlToApply } from './component.ts';
import { quote } from '../../core/shell.ts';
import { blockText, catProbe, probedBlock, writeBlockCommand, type BlockFile } from './managed-block.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tpa-common-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sh(script: string, stdin = ''): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', script], { input: stdin, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function actions(rs: Resource[]) {
  return rs.filter((r): r is Extract<Resource, { kind: 'action' }> => r.kind === 'action');
}

const me = userInfo();
const group = spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim();

void test('managed block: appended once, replaced in place, the rest of the file kept', async () => {
  const path = join(dir, 'hosts');
  await writeFile(path, '127.0.0.1\tlocalhost\n10.0.0.9\tother\n');
  const f: BlockFile = {
    pathShell: quote(path),
    begin: '# BEGIN t',
    end: '# END t',
    mode: 0o644,
    owner: me.username,
    group,
  };
  const run = (lines: string[]) => {
    const r = sh(writeBlockCommand(f), blockText(f, lines));
    assert.equal(r.code, 0, r.stderr);
  };
  run(['10.0.3.11\tmain-1']);
  run(['10.0.3.11\tmain-1']);
  assert.equal(
    await readFile(path, 'utf8'),
    '127.0.0.1\tlocalhost\n10.0.0.9\tother\n# BEGIN t\n10.0.3.11\tmain-1\n# END t\n',
  );
  await writeFile(path, (await readFile(path, 'utf8')) + 'after\tline\n');
  run(['10.0.3.12\tmain-2', '10.0.3.13\tmain-3']);
  assert.equal(
    await readFile(path, 'utf8'),
    '127.0.0.1\tlocalhost\n10.0.0.9\tother\n# BEGIN t\n10.0.3.12\tmain-2\n10.0.3.13\tmain-3\n# END t\nafter\tline\n',
  );
  const probe = sh(catProbe(quote(path))).stdout;
  assert.deepEqual(probedBlock(facts('x', { probes: { p: probe } }), 'p', f), [
    '10.0.3.12\tmain-2',
    '10.0.3.13\tmain-3',
  ]);
});

void test('managed block: a missing file (and directory) is created with the given mode', async () => {
  const path = join(dir, 'ssh', 'authorized_keys');
  const f: BlockFile = {
    pathShell: quote(path),
    begin: '# BEGIN k',
    end: '# END k',
    mode: 0o600,
    owner: me.username,
    group,
    dirMode: 0o700,
  };
  const r = sh(writeBlockCommand(f), blockText(f, ['ssh-ed25519 AAAA test']));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(path, 'utf8'), '# BEGIN k\nssh-ed25519 AAAA test\n# END k\n');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'ssh'))).mode & 0o777, 0o700);
});

void test('desired: packages first, locale, timezone, sysctl, hosts and keys, all in phase common', () => {
  const ctx = deployContext(
    groupConfig({ access: { ssh_authorized_keys: ['ssh-ed25519 AAAAcustomer alice@laptop'] } }),
  );
  const out = commonComponent.desired(ctx.inventory.hosts[0]!, ctx);
  assert.deepEqual(
    out.map((p) => p.phase),
    ['common'],
  );
  const rs = out[0]!.resources;
  const pkgs = rs.filter((r) => r.kind === 'package').map((r) => (r as { name: string }).name);
  for (const p of ['sudo', 'locales', 'tzdata', 'rsync', 'openssl', 'ca-certificates', 'postgresql-common'])
    assert.ok(pkgs.includes(p), p);
  assert.equal(
    rs.findIndex((r) => r.kind !== 'package'),
    pkgs.length,
    'packages come first',
  );
  assert.deepEqual(
    actions(rs).map((a) => a.id),
    ['common-locale', 'common-timezone', 'common-sysctl', 'common-etc-hosts', 'common-authorized-keys'],
  );
  const locale = rs.find((r) => r.kind === 'file' && r.path === '/etc/default/locale');
  assert.equal(locale && 'content' in locale ? locale.content : '', 'LANG=en_US.UTF-8\n');
  const keys = actions(rs).find((a) => a.id === 'common-authorized-keys')!;
  assert.match(keys.stdin!, /alice@laptop/);
  assert.match(keys.stdin!, /tpa@acme/);
});

void test('locale and timezone actions run only when the probes say so', () => {
  const ctx = deployContext();
  const rs = commonComponent.desired(ctx.inventory.hosts[0]!, ctx)[0]!.resources;
  const locale = actions(rs).find((a) => a.id === 'common-locale')!;
  assert.equal(locale.needed(facts('h', { probes: { [PROBES.locales]: 'C\nC.utf8\nPOSIX' } })), true);
  assert.equal(
    locale.needed(facts('h', { probes: { [PROBES.locales]: 'C\nC.utf8\nen_US.utf8\nPOSIX' } })),
    false,
  );
  const tz = actions(rs).find((a) => a.id === 'common-timezone')!;
  assert.equal(
    tz.needed(facts('h', { probes: { [PROBES.timezone]: '/usr/share/zoneinfo/Etc/UTC|Etc/UTC' } })),
    false,
  );
  assert.equal(
    tz.needed(facts('h', { probes: { [PROBES.timezone]: '/usr/share/zoneinfo/Europe/Paris|Europe/Paris' } })),
    true,
  );
});

void test('sysctl: the probe reads this machine; only writable keys that differ are applied', () => {
  const r = sh(sysctlProbe());
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^vm\.swappiness \d+ [01]$/);
  const probe = (s: string) => facts('h', { probes: { [PROBES.sysctl]: s } });
  // a container: vm.* read-only, net.* writable and already right
  const container =
    'vm.swappiness 60 0\nnet.ipv4.tcp_keepalive_time 300 1\nnet.ipv4.tcp_keepalive_intvl 30 1\nnet.ipv4.tcp_keepalive_probes 5 1';
  assert.deepEqual(sysctlToApply(probe(container)), []);
  assert.deepEqual(sysctlToApply(probe(container.replace('vm.swappiness 60 0', 'vm.swappiness 60 1'))), [
    'vm.swappiness',
  ]);
  assert.deepEqual(sysctlToApply(probe('')).length, 4);
});

void test('/etc/hosts: nothing to do when every pair is there already (the lxc platform wrote them)', () => {
  const inv = groupInventory([node('backup-1', '10.0.3.50', 'barman')]);
  const ctx = deployContext(groupConfig(), inv);
  const a = actions(commonComponent.desired(inv.hosts[0]!, ctx)[0]!.resources).find(
    (x) => x.id === 'common-etc-hosts',
  )!;
  assert.deepEqual(hostsLines(inv), [
    '10.0.3.50\tbackup-1',
    '10.0.3.11\tmain-1',
    '10.0.3.12\tmain-2',
    '10.0.3.13\tmain-3',
  ]);
  const platformWritten =
    '127.0.0.1\tlocalhost\n127.0.1.1\tmain-1\n10.0.3.1 tpa-host\n10.0.3.11 main-1\n10.0.3.12\tmain-2\n10.0.3.13\tmain-3\n10.0.3.50\tbackup-1\n';
  assert.equal(a.needed(facts('main-1', { probes: { [PROBES.hosts]: platformWritten } })), false);
  assert.equal(a.needed(facts('main-1', { probes: { [PROBES.hosts]: '127.0.0.1\tlocalhost\n' } })), true);
  // a block of ours that lists a node no longer there is rewritten
  const stale = `${platformWritten}# BEGIN tpa hosts\n10.0.3.14\tmain-4\n# END tpa hosts\n`;
  assert.equal(a.needed(facts('main-1', { probes: { [PROBES.hosts]: stale } })), true);
});

void test("authorized keys: customer keys plus tpa's own, compared without comments", () => {
  const ctx = deployContext(
    groupConfig({ access: { ssh_authorized_keys: ['ssh-ed25519 AAAAcustomer alice@laptop', ''] } }),
  );
  assert.deepEqual(adminKeys(ctx), ['ssh-ed25519 AAAAcustomer alice@laptop', ctx.secrets.ssh_public_key]);
  const a = actions(commonComponent.desired(ctx.inventory.hosts[0]!, ctx)[0]!.resources).find(
    (x) => x.id === 'common-authorized-keys',
  )!;
  const both = `ssh-ed25519 AAAAcustomer other-comment\n${ctx.secrets.ssh_public_key}\n`;
  assert.equal(a.needed(facts('h', { probes: { [PROBES.authorizedKeys]: both } })), false);
  assert.equal(
    a.needed(facts('h', { probes: { [PROBES.authorizedKeys]: `${ctx.secrets.ssh_public_key}\n` } })),
    true,
  );
  assert.match(a.command, /getent passwd root /);
});
