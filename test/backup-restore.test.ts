/**
 * Backups end to end on lxc, through the CLI as a user runs it: one group with a shared barman
 * server backing up two clusters (main: primary + replica; reports: a primary), deployed from
 * scratch. Checks barman's state on the backup server, tpa backup/backups/test, marker rows
 * written at known times, the backup server powered off during a backup (clear failure, WAL
 * catches up from the slot afterwards, the next backup succeeds).
 * Sequential, one shared group, everything removed in after() whatever happened.
 * Needs root on a Debian host.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { BackupsReport } from '../src/commands/backups/index.ts';
import type { BackupReport } from '../src/commands/backup/index.ts';
import type { RestoreReport } from '../src/commands/restore/index.ts';
import { parseCheckJson } from '../src/components/barman/output.ts';
import { parseShowServerRetention } from '../src/components/barman/live.ts';
import type { ClusterInfo } from '../src/commands/info/index.ts';
import type { StatusReport } from '../src/commands/status/index.ts';
import {
  fullJson,
  lastJson,
  readInventory,
  removePrefixed,
  run as runCommand,
  TPA,
  tpaEnv,
  waitFor,
  type RunOptions,
} from './support/cli.ts';

const GROUP = `it-bk-${process.pid}`;
const CLUSTERS = ['main', 'reports'] as const;

let work: string;
let dir: string;
let env: NodeJS.ProcessEnv;
let prefix: string | undefined;
let provisioned = false;

/** a command here may take 15 minutes (base backups, restores), not the usual 10 */
const LONG = 900_000;
const run = (cmd: string, args: string[], opts: RunOptions = {}) =>
  runCommand(cmd, args, { timeoutMs: LONG, ...opts });

const tpa = (...args: string[]) => run(TPA, args, { env });
const sh = (script: string) => run('/bin/sh', ['-c', script]);
/** a command on a node, as root, through tpa ssh (the cluster's key and known_hosts) */
const onNode = (node: string, command: string) => tpa('ssh', dir, node, '--', command);
const barman = (args: string) => onNode('backup-1', `cd / && runuser -u barman -- barman ${args}`);
const psql = (node: string, sql: string) =>
  onNode(
    node,
    `cd / && runuser -u postgres -- psql -X -A -t -q -v ON_ERROR_STOP=1 -c "${sql.replace(/"/g, '\\"')}"`,
  );

const inventory = () => readInventory(dir);

async function barmanChecksOk(server: string): Promise<{ ok: boolean; failed: string[] }> {
  const r = await barman(`-f json check ${server}`);
  try {
    const failed = parseCheckJson(r.stdout, server)
      .filter((c) => !c.ok)
      .map((c) => `${c.name} (${c.hint})`);
    return { ok: failed.length === 0 && r.code === 0, failed };
  } catch (e) {
    return { ok: false, failed: [`${(e as Error).message} ${r.stderr}`] };
  }
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the lxc integration tests run as root');
  work = await mkdtemp(join(tmpdir(), 'tpa-it-bk-'));
  dir = join(work, GROUP);
  env = { ...process.env, ...tpaEnv(work) };
});

after(async () => {
  if (provisioned || prefix) await tpa('deprovision', dir, '--yes');
  if (prefix) await removePrefixed(prefix, { timeoutMs: LONG });
  if (work) await rm(work, { recursive: true, force: true });
});

void test('configure: two clusters sharing one barman server', async () => {
  const r = await tpa('configure', dir, '--replicas', '1', '--backup', 'shared', '--cluster-name', 'main');
  assert.equal(r.code, 0, r.stderr);
  const path = join(dir, 'config.yml');
  const doc = parseDocument(await readFile(path, 'utf8'));
  const clusters = doc.get('clusters') as { add: (v: unknown) => void };
  clusters.add(
    doc.createNode({
      name: 'reports',
      backup_server: 'backup-1',
      // a single node needs no failover manager; its pgbouncer must work without one
      failover_manager: 'none',
      nodes: [{ name: 'reports-1', role: 'primary' }],
    }),
  );
  await writeFile(path, doc.toString());
  const v = await tpa('validate', dir);
  assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
});

void test('provision the four machines', async () => {
  const r = await tpa('provision', dir, '--json');
  provisioned = true;
  const inv = await inventory().catch(() => undefined);
  prefix = inv?.network?.prefix;
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.deepEqual(
    inv!.hosts.map((h) => [h.name, h.role]),
    [
      ['main-1', 'primary'],
      ['main-2', 'replica'],
      ['reports-1', 'primary'],
      ['backup-1', 'barman'],
    ],
  );
});

void test('deploy: barman check OK for both clusters and a first full backup of each', async () => {
  const started = Date.now();
  const r = await tpa('deploy', dir, '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr}`);
  console.log(`deploy took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const out = lastJson<{ applied: { host: string; summary: string }[] }>(r);
  const onBackup = out.applied.filter((c) => c.host === 'backup-1').map((c) => c.summary);
  for (const c of CLUSTERS) {
    assert.ok(
      onBackup.some((s) => s.includes(`first full backup of cluster ${c}`)),
      `deploy took the first backup of ${c}`,
    );
    const check = await barmanChecksOk(c);
    assert.ok(check.ok, `barman check ${c}: ${check.failed.join('; ')}`);
  }
  const list = await tpa('backups', dir, '--json');
  assert.equal(list.code, 0, list.stderr);
  const report = fullJson<BackupsReport>(list);
  assert.deepEqual(
    report.clusters.map((c) => [c.cluster, c.server]),
    [
      ['main', 'backup-1'],
      ['reports', 'backup-1'],
    ],
  );
  for (const c of report.clusters) {
    assert.ok(c.backups.filter((b) => b.status === 'DONE').length >= 1, `${c.cluster} has a complete backup`);
    const b = c.backups[0]!;
    assert.ok(b.beginEpoch! <= b.endEpoch!, 'begin before end');
    assert.match(b.walBegin ?? '', /^[0-9A-F]{24}$/);
    assert.ok((b.sizeBytes ?? 0) > 1024 * 1024, 'a backup of a real cluster is megabytes');
  }
});

void test('barman side: server files point at the primaries, no password outside a 0600 .pgpass, cron schedule', async () => {
  const inv = await inventory();
  const addr = (n: string) => inv.hosts.find((h) => h.name === n)!.address;
  const main = await onNode('backup-1', 'cat /etc/barman.d/main.conf');
  assert.match(main.stdout, new RegExp(`^conninfo = host=${addr('main-1').replace(/\./g, '\\.')} `, 'm'));
  const reports = await onNode('backup-1', 'cat /etc/barman.d/reports.conf');
  assert.match(
    reports.stdout,
    new RegExp(`^conninfo = host=${addr('reports-1').replace(/\./g, '\\.')} `, 'm'),
  );
  const secret = await tpa('secrets', dir, 'barman_password');
  assert.equal(secret.code, 0, secret.stderr);
  const pw = secret.stdout.trim();
  assert.ok(pw.length >= 16);
  // barman's configuration and the cron file never hold it; ~barman/.pgpass does
  const conf = await onNode('backup-1', 'cat /etc/barman.conf /etc/barman.d/*.conf /etc/cron.d/tpa-barman');
  assert.equal(conf.code, 0, conf.stderr);
  assert.ok(!conf.stdout.includes(pw), "the password is not in barman's configuration");
  const pgpass = await onNode('backup-1', 'cat /var/lib/barman/.pgpass');
  assert.ok(pgpass.stdout.includes(pw), '.pgpass holds it');
  const mode = await onNode('backup-1', 'stat -c "%a %U" /var/lib/barman/.pgpass');
  assert.equal(mode.stdout.trim(), '600 barman');
  const cron = await onNode('backup-1', 'cat /etc/cron.d/tpa-barman; systemctl is-active cron');
  assert.match(cron.stdout, /^0 2 \* \* \* barman .*barman -q backup main$/m);
  assert.match(cron.stdout, /^0 2 \* \* \* barman .*barman -q backup reports$/m);
  assert.match(cron.stdout, /^active$/m);
  // the barman role is no superuser
  const su = await psql('main-1', "SELECT rolsuper FROM pg_roles WHERE rolname = 'barman'");
  assert.equal(su.stdout.trim(), 'f');
});

void test('a second deploy changes nothing on the backup server', async () => {
  const r = await tpa('deploy', dir, '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr}`);
  const out = lastJson<{ applied: { host: string; summary: string }[] }>(r);
  const barmanChanges = out.applied.filter((c) => c.host === 'backup-1' || /barman/.test(c.summary));
  assert.deepEqual(barmanChanges, []);
});

void test('retention and schedule changed in config.yml: deploy rewrites only the backup server files, info and status show them; a server no cluster uses is retired, its data kept', async () => {
  type Applied = { applied: { host: string; summary: string }[] };
  const path = join(dir, 'config.yml');
  const doc = parseDocument(await readFile(path, 'utf8'));
  // daily still (tpa test's backup-recent allows a day and an hour), and a window that makes
  // no backup of the later tests obsolete
  doc.setIn(['backup', 'schedule'], '30 3 * * *');
  doc.setIn(['backup', 'retention'], 'RECOVERY WINDOW OF 14 DAYS');
  await writeFile(path, doc.toString());

  // not deployed yet: status says where the backup server differs, and what to do
  const before = await tpa('status', dir, '--json');
  assert.equal(before.code, 0, before.stderr);
  const pending = fullJson<StatusReport>(before).backups!.find((b) => b.cluster === 'main')!;
  assert.deepEqual(pending.differences, [
    'retention: config.yml says RECOVERY WINDOW OF 14 DAYS, backup-1 has RECOVERY WINDOW OF 7 DAYS: run tpa deploy',
    'schedule: config.yml says "30 3 * * *", backup-1 has "0 2 * * *": run tpa deploy',
  ]);

  const r = await tpa('deploy', dir, '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr}`);
  const applied = lastJson<Applied>(r).applied;
  assert.deepEqual(applied.map((c) => `${c.host} ${c.summary}`).sort(), [
    'backup-1 update /etc/barman.d/main.conf',
    'backup-1 update /etc/barman.d/reports.conf',
    'backup-1 update /etc/cron.d/tpa-barman',
  ]);
  const files = await onNode(
    'backup-1',
    'cat /etc/barman.d/main.conf /etc/barman.d/reports.conf /etc/cron.d/tpa-barman',
  );
  assert.equal(files.code, 0, files.stderr);
  assert.equal(files.stdout.match(/^retention_policy = RECOVERY WINDOW OF 14 DAYS$/gm)?.length, 2);
  assert.doesNotMatch(files.stdout, /7 DAYS/);
  for (const c of CLUSTERS)
    assert.match(files.stdout, new RegExp(`^30 3 \\* \\* \\* barman .*barman -q backup ${c}$`, 'm'));
  assert.doesNotMatch(files.stdout, /^0 2 /m);
  // barman reads its configuration at every run: no restart, the next invocation has it
  for (const c of CLUSTERS) {
    const show = await barman(`-f json show-server ${c}`);
    assert.equal(parseShowServerRetention(show.stdout, c), 'RECOVERY WINDOW OF 14 DAYS', show.stderr);
    const check = await barmanChecksOk(c);
    assert.ok(check.ok, `barman check ${c}: ${check.failed.join('; ')}`);
  }

  const info = await tpa('info', dir, '--json');
  assert.equal(info.code, 0, info.stderr);
  const sheet = fullJson<ClusterInfo>(info);
  for (const c of CLUSTERS) {
    const b = sheet.backups.find((x) => x.cluster === c)!;
    assert.deepEqual(
      [b.server, b.mode, b.schedule.cron, b.schedule.text, b.retention],
      ['backup-1', 'shared', '30 3 * * *', 'daily at 03:30 UTC', 'RECOVERY WINDOW OF 14 DAYS'],
    );
    assert.match(b.schedule.next ?? '', /T03:30:00\.000Z$/);
    assert.deepEqual(
      [b.now?.retention, b.now?.retentionSource, b.now?.schedule],
      ['RECOVERY WINDOW OF 14 DAYS', 'barman show-server', '30 3 * * *'],
    );
    assert.deepEqual(b.differences, []);
  }
  const status = await tpa('status', dir, '--json');
  assert.equal(status.code, 0, status.stderr);
  for (const c of CLUSTERS) {
    const b = fullJson<StatusReport>(status).backups!.find((x) => x.cluster === c)!;
    assert.deepEqual(
      [b.schedule.cron, b.retention, b.now?.retention],
      ['30 3 * * *', 'RECOVERY WINDOW OF 14 DAYS', 'RECOVERY WINDOW OF 14 DAYS'],
    );
    assert.ok((b.now?.backups ?? 0) >= 1, `${c}: complete backups counted`);
    assert.equal(b.now?.last?.status, 'DONE');
    assert.equal(b.now?.obsolete, 0);
    assert.deepEqual(b.differences, []);
  }
  const text = await tpa('status', dir);
  assert.match(
    text.stdout,
    /^backups main on backup-1: last \d{8}T\d{6} DONE .*schedule 30 3 \* \* \* \(daily at 03:30 UTC, next in .*\); retention RECOVERY WINDOW OF 14 DAYS$/m,
  );

  const again = await tpa('deploy', dir, '--json');
  assert.equal(again.code, 0, `${again.stdout.slice(-3000)}\n${again.stderr}`);
  assert.deepEqual(lastJson<Applied>(again).applied, []);

  // a server tpa configured that no cluster in config.yml uses any more (as after removing a
  // cluster), really streaming from main-1 through a slot of its own
  await onNode(
    'backup-1',
    "sed -e 's/^\\[main\\]$/[old]/' -e 's/^slot_name = .*/slot_name = old_barman/' /etc/barman.d/main.conf > /etc/barman.d/old.conf",
  );
  await barman('cron');
  await waitFor('receive-wal of the server old', 90_000, async () => {
    const held = await onNode(
      'backup-1',
      'f=/var/lib/barman/.old-receive-wal.lock; [ -f $f ] && ! flock -n -s $f true && ls /var/lib/barman/old/streaming/*.partial',
    );
    return held.code === 0;
  });
  const listed = await tpa('status', dir, '--json');
  assert.deepEqual(fullJson<StatusReport>(listed).backupLeftovers, [
    { host: 'backup-1', server: 'old', backups: 0, path: '/var/lib/barman/old' },
  ]);
  const plan = await tpa('plan', dir, '--json');
  assert.equal(plan.code, 0, plan.stderr);
  const planned = lastJson<{ hosts: { host: string; changes: { target: string; summary: string }[] }[] }>(
    plan,
  );
  assert.deepEqual(
    planned.hosts.map((h) => [h.host, h.changes.map((c) => c.target)]),
    [['backup-1', ['barman-retire-old']]],
  );
  assert.match(
    planned.hosts[0]!.changes[0]!.summary,
    /remove \/etc\/barman\.d\/old\.conf; its WAL stays in \/var\/lib\/barman\/old/,
  );

  const retire = await tpa('deploy', dir, '--json');
  assert.equal(retire.code, 0, `${retire.stdout.slice(-3000)}\n${retire.stderr}`);
  assert.deepEqual(
    lastJson<Applied>(retire).applied.map((c) => c.host),
    ['backup-1'],
  );
  const after = await onNode(
    'backup-1',
    'test ! -e /etc/barman.d/old.conf && ls /var/lib/barman/old/streaming/ && flock -n -s /var/lib/barman/.old-receive-wal.lock true && ! pgrep -f "[p]g_receivewal.*old_barman"',
  );
  assert.equal(
    after.code,
    0,
    `server file gone, WAL kept, receive-wal stopped: ${after.stdout}${after.stderr}`,
  );
  assert.match(after.stdout, /^[0-9A-F]{24}(\.partial)?$/m, 'the streamed WAL is still there');
  const servers = await barman('list-servers --minimal');
  assert.deepEqual(servers.stdout.trim().split('\n').sort(), ['main', 'reports']);
  // the slot it streamed through is the removed cluster's business; here main-1 must not keep it
  await waitFor('the slot old_barman to go idle', 30_000, async () => {
    const a = await psql('main-1', "SELECT active FROM pg_replication_slots WHERE slot_name = 'old_barman'");
    return a.stdout.trim() === 'f';
  });
  await psql('main-1', "SELECT pg_drop_replication_slot('old_barman')");
  const quiet = await tpa('deploy', dir, '--json');
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.deepEqual(lastJson<Applied>(quiet).applied, []);
});

void test('tpa test: the backup checks pass for both clusters', async () => {
  const r = await tpa('test', dir, '--json');
  const report = JSON.parse(r.stdout) as {
    results: { check: string; cluster: string; status: string; detail: string }[];
  };
  const backup = report.results.filter((x) =>
    ['barman-check', 'backup-recent', 'wal-archiving'].includes(x.check),
  );
  assert.equal(backup.length, 6, JSON.stringify(backup));
  for (const x of backup) assert.equal(x.status, 'pass', `${x.cluster} ${x.check}: ${x.detail}`);
  // reports runs pgbouncer without a failover manager: a write through it lands on its primary
  const pooled = report.results.filter((x) => x.cluster === 'reports' && x.check === 'pgbouncer-write');
  assert.equal(pooled.length, 1, JSON.stringify(report.results.filter((x) => x.cluster === 'reports')));
  assert.equal(pooled[0]!.status, 'pass', pooled[0]!.detail);
  assert.ok(!report.results.some((x) => x.cluster === 'reports' && /^repmgr/.test(x.check)));
});

void test('tpa test --restore-drill --cluster reports: restored into a temporary cluster, verified, removed again', async () => {
  const configBefore = await readFile(join(dir, 'config.yml'), 'utf8');
  const inventoryBefore = await inventory();
  const knownHostsBefore = await readFile(join(dir, 'known_hosts'), 'utf8');
  const started = Date.now();
  const r = await tpa('test', dir, '--restore-drill', '--cluster', 'reports', '--json');
  const seconds = (Date.now() - started) / 1000;
  const report = JSON.parse(r.stdout) as {
    ok: boolean;
    results: { check: string; cluster: string; node?: string; status: string; detail: string }[];
  };
  const failed = report.results.filter((x) => x.status === 'fail');
  assert.equal(r.code, 0, `${JSON.stringify(failed)}\n${r.stderr.slice(-2000)}`);
  const drill = report.results.filter((x) => x.check === 'restore-drill');
  assert.equal(drill.length, 1, JSON.stringify(drill));
  const row = drill[0]!;
  assert.equal(row.cluster, 'reports');
  assert.equal(row.status, 'pass', row.detail);
  assert.match(
    row.detail,
    /^backup \d{8}T\d{6} restored into reports-drill-[0-9a-f]{4}-1: marker m-\S+ found, checksums verified in [1-9]\d* files/,
  );
  console.log(`restore drill of reports took ${seconds.toFixed(1)} s: ${row.detail}`);
  const temporary = /restored into (reports-drill-[0-9a-f]{4})-1/.exec(row.detail)![1]!;

  // config.yml as before; the temporary cluster came and went in two commits
  assert.equal(await readFile(join(dir, 'config.yml'), 'utf8'), configBefore);
  const log = await run('git', ['-C', dir, 'log', '--format=%s', '-n', '20']);
  const subjects = log.stdout.split('\n');
  const added = subjects.findIndex((x) =>
    x.startsWith(`test --restore-drill: temporary cluster ${temporary} `),
  );
  const removed = subjects.indexOf(`test --restore-drill: remove temporary cluster ${temporary}`);
  assert.ok(removed >= 0 && added > removed, log.stdout);

  // no machine, inventory host or host key of it is left
  const after = await inventory();
  assert.deepEqual(after, inventoryBefore);
  const containers = await sh('lxc-ls -1');
  assert.ok(!containers.stdout.split('\n').some((c) => c.includes('-drill-')), containers.stdout);
  assert.equal(await readFile(join(dir, 'known_hosts'), 'utf8'), knownHostsBefore);

  // the source runs on: primary, its drill marker written, barman check OK
  const source = await psql(
    'reports-1',
    "SELECT pg_is_in_recovery(), count(*) FROM tpa_test.markers WHERE via = 'restore-drill'",
  );
  assert.equal(source.stdout.trim(), 'f|1', source.stderr);
  const check = await barmanChecksOk('reports');
  assert.ok(check.ok, `barman check reports: ${check.failed.join('; ')}`);
});

let markerBackupId: string;
/** the WAL position after rows 1 and 2, before row 3 */
let lsnBeforeRow3: string;

void test('marker rows, then tpa backup: a new complete backup is listed', async () => {
  const t = await psql(
    'main-1',
    'CREATE TABLE IF NOT EXISTS tpa_marker (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp()); INSERT INTO tpa_marker (id) VALUES (1), (2)',
  );
  assert.equal(t.code, 0, t.stderr);
  const before = fullJson<BackupsReport>(await tpa('backups', dir, '--json', '--cluster', 'main'));
  const r = await tpa('backup', dir, '--cluster', 'main', '--json');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const out = lastJson<BackupReport>(r);
  assert.equal(out.backups.length, 1);
  assert.equal(out.backups[0]!.cluster, 'main');
  assert.equal(out.backups[0]!.backup.status, 'DONE');
  markerBackupId = out.backups[0]!.backup.id;
  const afterList = fullJson<BackupsReport>(await tpa('backups', dir, '--json', '--cluster', 'main'));
  const ids = afterList.clusters[0]!.backups.map((b) => b.id);
  assert.equal(ids.length, before.clusters[0]!.backups.length + 1);
  assert.ok(ids.includes(markerBackupId));
});

void test('backup server down: tpa backup fails naming it; afterwards WAL catches up and the next backup works', async () => {
  const off = await tpa('fault', dir, 'backup-1', 'poweroff');
  assert.equal(off.code, 0, off.stderr);
  try {
    const r = await tpa('backup', dir, '--cluster', 'main');
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /backup-1/);
    assert.match(r.stderr, /cannot be reached/);
    // the cluster keeps working meanwhile; these rows only exist in WAL written while barman was away
    const lsn = await psql('main-1', 'SELECT pg_current_wal_lsn()');
    assert.equal(lsn.code, 0, lsn.stderr);
    lsnBeforeRow3 = lsn.stdout.trim();
    const w = await psql('main-1', 'INSERT INTO tpa_marker (id) VALUES (3); SELECT pg_switch_wal()');
    assert.equal(w.code, 0, w.stderr);
  } finally {
    const on = await tpa('fault', dir, 'backup-1', 'start');
    assert.equal(on.code, 0, on.stderr);
  }
  // barman cron (every minute) restarts receive-wal, which resumes from the slot
  await waitFor('barman check main to pass again', 180_000, async () => (await barmanChecksOk('main')).ok);
  const r = await tpa('backup', dir, '--cluster', 'main', '--json');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(lastJson<BackupReport>(r).backups[0]!.backup.status, 'DONE');
});

void test('restore refused before anything changes: a time before the oldest backup, with the range', async () => {
  const configBefore = await readFile(join(dir, 'config.yml'), 'utf8');
  const r = await tpa(
    'restore',
    dir,
    '--cluster',
    'main',
    '--time',
    '2000-01-01T00:00:00Z',
    '--into',
    'never',
  );
  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /restore refused, nothing was changed: .*before the oldest backup ends/);
  assert.match(r.stderr, /recoverable range of main: from \S+ \(end of backup \d{8}T\d{6}/);
  assert.equal(await readFile(join(dir, 'config.yml'), 'utf8'), configBefore);
  const later = await tpa(
    'restore',
    dir,
    '--cluster',
    'main',
    '--time',
    '2999-01-01T00:00:00Z',
    '--into',
    'never',
  );
  assert.equal(later.code, 2, later.stderr);
  assert.match(later.stderr, /after the last archived WAL/);
  assert.equal(
    (await inventory()).hosts.some((h) => h.name.startsWith('never')),
    false,
  );
});

void test('point-in-time restore by LSN into a new cluster with a replica: exactly the rows written before the target', async () => {
  const rows = await psql('main-1', 'SELECT id FROM tpa_marker ORDER BY id');
  assert.equal(rows.stdout.trim(), '1\n2\n3');
  assert.match(lsnBeforeRow3, /^[0-9A-F]+\/[0-9A-F]+$/);
  const started = Date.now();
  const r = await tpa(
    'restore',
    dir,
    '--cluster',
    'main',
    '--lsn',
    lsnBeforeRow3,
    '--into',
    'pitr',
    '--replicas',
    '1',
    '--json',
  );
  assert.equal(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr}`);
  console.log(`restore (provision, recover, deploy) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const out = lastJson<{ into: string; nodes: string[]; backup: string; target: string }>(r);
  assert.deepEqual(out.nodes, ['pitr-1', 'pitr-2']);
  assert.match(out.target, new RegExp(lsnBeforeRow3.replace('/', '\\/')));
  const restored = await psql('pitr-1', 'SELECT id FROM tpa_marker ORDER BY id');
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(restored.stdout.trim(), '1\n2');
  const role = await psql('pitr-1', 'SELECT pg_is_in_recovery()');
  assert.equal(role.stdout.trim(), 'f');
  // its replica was cloned from the restored primary and streams from it
  const replica = await psql(
    'pitr-2',
    "SELECT pg_is_in_recovery(), (SELECT string_agg(id::text, ',' ORDER BY id) FROM tpa_marker)",
  );
  assert.equal(replica.stdout.trim(), 't|1,2');
  const streaming = await psql(
    'pitr-1',
    "SELECT application_name, state FROM pg_stat_replication WHERE application_name = 'pitr-2'",
  );
  assert.equal(streaming.stdout.trim(), 'pitr-2|streaming');
  // the new cluster is in config.yml (committed, valid), backed up, and the original keeps running
  const log = await run('git', ['-C', dir, 'log', '--oneline']);
  assert.match(log.stdout, /restore: new cluster pitr from main/);
  const v = await tpa('validate', dir);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const check = await barmanChecksOk('pitr');
  assert.ok(check.ok, check.failed.join('; '));
  const original = await psql('main-1', 'SELECT count(*) FROM tpa_marker');
  assert.equal(original.stdout.trim(), '3');
});

/** the timeline a primary writes on now (pg_control_checkpoint lags until the next checkpoint) */
async function timelineOf(node: string): Promise<number> {
  const r = await psql(node, 'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)');
  assert.equal(r.code, 0, r.stderr);
  return parseInt(r.stdout.trim(), 16);
}

void test('restore in place: back to a time between two rows; replicas re-cloned, repmgr, pgbouncer and barman healthy; old data kept', async () => {
  const w1 = await psql('main-1', 'INSERT INTO tpa_marker (id) VALUES (10)');
  assert.equal(w1.code, 0, w1.stderr);
  await new Promise((r) => setTimeout(r, 2000));
  const w2 = await psql('main-1', 'INSERT INTO tpa_marker (id) VALUES (11)');
  assert.equal(w2.code, 0, w2.stderr);
  const rows = await psql(
    'main-1',
    'SELECT id, extract(epoch FROM at) FROM tpa_marker WHERE id >= 10 ORDER BY id',
  );
  const at = rows.stdout
    .trim()
    .split('\n')
    .map((l) => Number(l.split('|')[1]));
  const target = new Date(((at[0]! + at[1]!) / 2) * 1000);
  const timeline = await timelineOf('main-1');
  const backupsBefore = fullJson<BackupsReport>(await tpa('backups', dir, '--json', '--cluster', 'main'))
    .clusters[0]!.backups.length;

  // without --yes nothing happens
  const unconfirmed = await tpa(
    'restore',
    dir,
    '--cluster',
    'main',
    '--time',
    target.toISOString(),
    '--in-place',
  );
  assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
  assert.match(unconfirmed.stderr, /--yes/);

  const started = Date.now();
  const r = await tpa(
    'restore',
    dir,
    '--cluster',
    'main',
    '--time',
    target.toISOString(),
    '--in-place',
    '--yes',
    '--json',
  );
  assert.equal(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr}`);
  console.log(
    `restore in place (recover, deploy, backup) took ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const out = lastJson<RestoreReport>(r);
  assert.equal(out.inPlace, true);
  assert.deepEqual(out.kept!.map((k) => k.node).sort(), ['main-1', 'main-2']);
  // the data directories from before are kept, whole
  for (const k of out.kept!) {
    const kept = await onNode(k.node, `test -f ${k.path}/PG_VERSION && test -d ${k.path}/base && echo kept`);
    assert.equal(kept.stdout.trim(), 'kept', `${k.node}: ${k.path}`);
  }

  // exactly the rows before the target, on a new timeline
  const restored = await psql('main-1', 'SELECT id FROM tpa_marker ORDER BY id');
  assert.equal(restored.stdout.trim(), '1\n2\n3\n10');
  assert.equal((await psql('main-1', 'SELECT pg_is_in_recovery()')).stdout.trim(), 'f');
  assert.equal(await timelineOf('main-1'), timeline + 1);

  // the replica was cloned from the restored primary and streams from it
  await waitFor('main-2 to stream from main-1', 60_000, async () => {
    const s = await psql('main-1', "SELECT state FROM pg_stat_replication WHERE application_name = 'main-2'");
    return s.stdout.trim() === 'streaming';
  });
  assert.equal((await psql('main-2', 'SELECT pg_is_in_recovery()')).stdout.trim(), 't');
  assert.equal((await psql('main-2', 'SELECT id FROM tpa_marker ORDER BY id')).stdout.trim(), '1\n2\n3\n10');

  // repmgr: both nodes registered again, the same view from each
  for (const node of ['main-1', 'main-2']) {
    const show = await onNode(
      node,
      'cd / && runuser -u postgres -- repmgr -f /etc/repmgr.conf cluster show --csv',
    );
    assert.equal(show.code, 0, `${node}: ${show.stdout}\n${show.stderr}`);
  }
  const active = await onNode('main-1', 'systemctl is-active repmgrd');
  assert.match(active.stdout, /^active$/m);

  // tpa test: replication, repmgr, writes through every pgbouncer, backup checks
  const t = await tpa('test', dir, '--json');
  const report = JSON.parse(t.stdout) as {
    results: { check: string; cluster: string; status: string; detail: string }[];
  };
  const failed = report.results.filter((x) => x.status === 'fail');
  assert.deepEqual(failed, [], JSON.stringify(failed));
  assert.equal(t.code, 0, t.stderr);

  // barman streams from the restored primary again, and a full backup of the new timeline exists
  assert.ok((await barmanChecksOk('main')).ok);
  const after = fullJson<BackupsReport>(await tpa('backups', dir, '--json', '--cluster', 'main'))
    .clusters[0]!;
  assert.equal(after.backups.length, backupsBefore + 1);
  const fresh = after.backups.find((b) => b.id === out.newBackup);
  assert.ok(fresh, `backup ${out.newBackup} is listed`);
  assert.equal(fresh.status, 'DONE');
  assert.equal(fresh.timeline, timeline + 1);
});

void test('failover: barman follows the promoted replica without a new full backup; the next backup succeeds', async () => {
  const inv = await inventory();
  const addr = (n: string) => inv.hosts.find((h) => h.name === n)!.address;
  const backupsBefore = fullJson<BackupsReport>(await tpa('backups', dir, '--json', '--cluster', 'main'))
    .clusters[0]!.backups.length;
  const timeline = await timelineOf('main-1');
  const tlHex = (timeline + 1).toString(16).toUpperCase().padStart(8, '0');
  const off = await tpa('fault', dir, 'main-1', 'poweroff');
  assert.equal(off.code, 0, off.stderr);
  await waitFor('repmgrd to promote main-2', 240_000, async () => {
    const r = await psql('main-2', 'SELECT pg_is_in_recovery()');
    return r.code === 0 && r.stdout.trim() === 'f';
  });
  // the follower on the backup server runs every minute
  await waitFor('barman to stream from main-2 and pass its checks', 240_000, async () => {
    const conf = await onNode('backup-1', 'cat /etc/barman.d/main.conf');
    return conf.stdout.includes(`conninfo = host=${addr('main-2')} `) && (await barmanChecksOk('main')).ok;
  });
  const follow = await onNode('backup-1', 'cat /var/log/barman/tpa-follow.log');
  assert.match(
    follow.stdout,
    new RegExp(
      `main: the primary is now ${addr('main-2').replace(/\./g, '\\.')} \\(timeline ${timeline + 1}\\)`,
    ),
  );
  // no full backup was needed for that: WAL streams on the new timeline
  const during = fullJson<BackupsReport>(await tpa('backups', dir, '--json', '--cluster', 'main'))
    .clusters[0]!;
  assert.equal(during.backups.length, backupsBefore);
  const w = await psql('main-2', 'INSERT INTO tpa_marker (id) VALUES (4); SELECT pg_switch_wal()');
  assert.equal(w.code, 0, w.stderr);
  await waitFor(`a WAL file of timeline ${timeline + 1} archived`, 120_000, async () => {
    const r = await onNode(
      'backup-1',
      `cut -f1 /var/lib/barman/main/wals/xlog.db | grep -c '^${tlHex}' || true`,
    );
    return Number(r.stdout.trim()) > 0;
  });
  const r = await tpa('backup', dir, '--cluster', 'main', '--json');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const taken = lastJson<BackupReport>(r).backups[0]!.backup;
  assert.equal(taken.status, 'DONE');
  assert.equal(taken.timeline, timeline + 1);
});

void test('the former primary comes back fenced: its postgres stays down, barman stays with the new primary', async () => {
  const inv = await inventory();
  const addr = (n: string) => inv.hosts.find((h) => h.name === n)!.address;
  const on = await tpa('fault', dir, 'main-1', 'start');
  assert.equal(on.code, 0, on.stderr);
  // the follower runs from cron at every minute: wait until one run has seen main-1 back
  const secondsLeft = 60 - new Date().getUTCSeconds();
  await new Promise((r) => setTimeout(r, (secondsLeft + 15) * 1000));
  // main-1's start guard found main-2 the primary and kept its server down
  const unit = await onNode('main-1', 'systemctl is-active postgresql@15-main || true');
  assert.equal(unit.stdout.trim(), 'failed');
  const answer = await psql('main-1', 'SELECT 1');
  assert.notEqual(answer.code, 0, "main-1's postgres does not answer");
  const journal = await onNode(
    'main-1',
    "journalctl -b -u postgresql@15-main --no-pager -o cat | grep -F 'fenced: ' || true",
  );
  assert.match(
    journal.stdout,
    new RegExp(`fenced: ${addr('main-2').replace(/\./g, '\\.')} \\(main-2\\) is the primary now`),
  );
  const conf = await onNode('backup-1', 'cat /etc/barman.d/main.conf');
  assert.match(conf.stdout, new RegExp(`^conninfo = host=${addr('main-2').replace(/\./g, '\\.')} `, 'm'));
  const check = await barmanChecksOk('main');
  assert.ok(check.ok, check.failed.join('; '));
});

void test('restore in place --latest right after the failover: every row of the newest timeline comes back', async () => {
  // main-2 is the primary of now (timeline after the failover), main-1 is fenced; config.yml still
  // names main-1 the primary, and the in-place restore recovers into it following the newest timeline
  const w = await psql('main-2', 'INSERT INTO tpa_marker (id) VALUES (5); SELECT pg_switch_wal()');
  assert.equal(w.code, 0, w.stderr);
  const expected = (
    await psql('main-2', "SELECT string_agg(id::text, ',' ORDER BY id) FROM tpa_marker")
  ).stdout.trim();
  // 4 was written on main-2 after the failover, 5 just now: both only on the newest timeline
  assert.ok(expected.split(',').includes('4') && expected.split(',').includes('5'), expected);
  const started = Date.now();
  const r = await tpa('restore', dir, '--cluster', 'main', '--latest', '--in-place', '--yes', '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr}`);
  console.log(`restore --latest in place took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const out = lastJson<{ inPlace: boolean; kept: { node: string; path: string }[] }>(r);
  assert.equal(out.inPlace, true);
  assert.deepEqual(out.kept.map((k) => k.node).sort(), ['main-1', 'main-2']);
  const rows = await psql(
    'main-1',
    "SELECT pg_is_in_recovery(), string_agg(id::text, ',' ORDER BY id) FROM tpa_marker",
  );
  assert.equal(rows.stdout.trim(), `f|${expected}`);
  const replica = await psql('main-2', 'SELECT pg_is_in_recovery()');
  assert.equal(replica.stdout.trim(), 't');
  const test = await tpa('test', dir, '--json');
  const report = lastJson<{
    ok: boolean;
    results: { check: string; node?: string; status: string; detail: string }[];
  }>(test);
  assert.deepEqual(
    report.results.filter((x) => x.status !== 'pass').map((x) => `${x.check}@${x.node ?? ''}: ${x.detail}`),
    [],
  );
  assert.equal(test.code, 0);
});
