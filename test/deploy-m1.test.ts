/**
 * An M1 group end to end, through the CLI as a user runs it, on one cluster shared by every
 * step: configure (a primary, a replica, and a replica cascading from that replica), provision,
 * deploy (data checksums on on every node), tpa test; a second deploy changes nothing; config changes converge with the right
 * handler (reload for work_mem and a new client CIDR, restart with replicas first for
 * max_connections); a setting the servers cannot start with is rolled back on the first node
 * restarted and no other node is restarted; tpa test fails, naming the check, when a replica is stopped, when a
 * pgbouncer points at a replica, when repmgrd is down, and passes again once repaired;
 * the primary's machine is powered off and repmgrd promotes a replica that every remaining
 * pgbouncer follows; the former primary comes back fenced (its start guard keeps its postgres
 * down, saying why) while its own pgbouncer routes to the new primary; it rejoins as a standby
 * with the command the guard gives, and once config.yml swaps the roles deploy and tpa test
 * pass again; deprovision leaves nothing of the group on the host.
 * Needs root on a Debian host (lxc); the steps run in order and depend on each other.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { TestReport } from '../src/commands/test/index.ts';
import type { StatusReport } from '../src/commands/status/index.ts';
import type { DeployReport } from '../src/commands/deploy/index.ts';
import { lastJson, leftovers, readInventory, removePrefixed, run, TPA, tpaEnv } from './support/cli.ts';

const GROUP = `it-m1-${process.pid}`;
const PG_UNIT = 'postgresql@15-main';
const NEW_CIDR = '198.51.100.0/24';

let work: string;
let dir: string;
let env: NodeJS.ProcessEnv;
let prefix: string | undefined;

const tpa = (...args: string[]) => run(TPA, args, { env });
/** a command on a node, through tpa ssh (the cluster's key, strict host keys) */
const onNode = (node: string, script: string) => tpa('ssh', dir, node, '--', script);
const sql = (node: string, query: string) =>
  onNode(node, `cd / && runuser -u postgres -- psql -X -A -t -q -c "${query}"`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const inventory = () => readInventory(dir);

async function address(node: string): Promise<string> {
  return (await inventory()).hosts.find((h) => h.name === node)!.address;
}

async function editConfig(edit: (doc: ReturnType<typeof parseDocument>) => void): Promise<void> {
  const path = join(dir, 'config.yml');
  const doc = parseDocument(await readFile(path, 'utf8'));
  edit(doc);
  await writeFile(path, String(doc));
  const v = await tpa('validate', dir);
  assert.equal(v.code, 0, v.stdout + v.stderr);
}

async function deploy(): Promise<DeployReport> {
  const started = Date.now();
  const r = await tpa('deploy', dir, '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  const out = lastJson<DeployReport>(r);
  console.log(`deploy: ${out.summary} (${((Date.now() - started) / 1000).toFixed(0)} s wall)`);
  return out;
}

async function runTest(): Promise<{ code: number; report: TestReport }> {
  const r = await tpa('test', dir, '--json');
  return { code: r.code, report: lastJson<TestReport>(r) };
}

function failures(report: TestReport): string[] {
  return report.results
    .filter((x) => x.status === 'fail')
    .map((x) => `${x.check}${x.node ? `@${x.node}` : ''}: ${x.detail}`);
}

async function expectPass(label: string): Promise<TestReport> {
  const { code, report } = await runTest();
  assert.deepEqual(failures(report), [], `${label}: tpa test should pass`);
  assert.equal(code, 0);
  assert.equal(report.ok, true);
  return report;
}

/** tpa test exits 1 and names `check` on `node` among its failures */
async function expectFailure(check: string, node: string): Promise<TestReport> {
  const { code, report } = await runTest();
  assert.equal(code, 1, `tpa test should exit 1 (failures: ${failures(report).join('; ')})`);
  assert.equal(report.ok, false);
  const named = report.results.find((x) => x.check === check && x.node === node);
  assert.equal(named?.status, 'fail', `${check} on ${node}: ${JSON.stringify(named)}`);
  return report;
}

/** polls until tpa test passes (a restarted replica needs a moment to stream again) */
async function eventuallyPass(label: string, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: string[] = [];
  while (Date.now() < until) {
    const { code, report } = await runTest();
    if (code === 0 && report.ok) return;
    last = failures(report);
    await sleep(3000);
  }
  assert.fail(`${label}: tpa test still fails: ${last.join('; ')}`);
}

async function status(): Promise<StatusReport> {
  const r = await tpa('status', dir, '--json');
  assert.equal(r.code, 0, r.stderr);
  return lastJson<StatusReport>(r);
}

function startTimes(s: StatusReport): Record<string, string | undefined> {
  return Object.fromEntries(s.nodes.map((n) => [n.node, n.startedAt]));
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the lxc integration tests run as root');
  work = await mkdtemp(join(tmpdir(), 'tpa-it-m1-'));
  dir = join(work, GROUP);
  env = { ...process.env, ...tpaEnv(work) };
});

after(async () => {
  // whatever happened above: nothing of this group may stay on the host
  if (dir) await tpa('deprovision', dir, '--yes');
  if (prefix) await removePrefixed(prefix);
  if (work) await rm(work, { recursive: true, force: true });
});

void test('configure: a primary, a replica, and a replica cascading from it; clients from private networks', async () => {
  const r = await tpa(
    'configure',
    dir,
    '--replicas',
    '2',
    '--backup',
    'none',
    // whichever private subnet the lxc bridge gets, this host and the nodes are clients
    ...['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].flatMap((c) => ['--client-cidr', c]),
  );
  assert.equal(r.code, 0, r.stderr);
  await editConfig((doc) => {
    doc.setIn(['clusters', 0, 'nodes', 2, 'upstream'], 'main-2');
  });
});

void test('provision and deploy', async () => {
  const p = await tpa('provision', dir, '--json');
  assert.equal(p.code, 0, `${p.stdout.slice(-3000)}\n${p.stderr.slice(-3000)}`);
  prefix = (await inventory()).network?.prefix;
  assert.ok(prefix);
  const out = await deploy();
  assert.ok(out.changes > 0);
});

void test("data checksums are on on every node: tpa's own deploy enabled them", async () => {
  for (const node of ['main-1', 'main-2', 'main-3']) {
    const r = await sql(node, 'SHOW data_checksums');
    assert.equal(r.stdout.trim(), 'on', `${node}: ${r.stderr}`);
  }
});

void test('tpa test passes; main-3 streams from main-2', async () => {
  const report = await expectPass('after the first deploy');
  const cascade = report.results.find((x) => x.check === 'replica-streaming' && x.node === 'main-3');
  assert.match(cascade?.detail ?? '', /streaming from main-2/);
  // every check ran: nothing skipped on a healthy cluster
  assert.equal(report.summary.skip, 0);
  assert.equal(new Set(report.results.map((x) => x.check)).size, 12);
});

void test('a second deploy changes nothing; the plan is empty', async () => {
  const plan = await tpa('plan', dir, '--json');
  assert.equal(plan.code, 0, plan.stderr);
  const p = lastJson<{ changes: number; hosts: { host: string; changes: unknown[] }[]; refusals: unknown[] }>(
    plan,
  );
  assert.equal(p.changes, 0, JSON.stringify(p.hosts));
  assert.deepEqual(
    p.hosts.filter((h) => h.changes.length > 0).map((h) => h.host),
    [],
    JSON.stringify(p.hosts),
  );
  assert.deepEqual(p.refusals, []);
  const out = await deploy();
  assert.equal(out.changes, 0, JSON.stringify(out.applied));
  assert.deepEqual(out.handlers, []);
});

void test('work_mem: applied with a reload and nothing else', async () => {
  const before = startTimes(await status());
  await editConfig((doc) => doc.setIn(['postgres', 'settings'], { work_mem: '8MB' }));
  const out = await deploy();
  assert.ok(out.changes > 0);
  assert.deepEqual(
    [...new Set(out.handlers.map((h) => h.handler))],
    [`reload:${PG_UNIT}`],
    JSON.stringify(out.handlers),
  );
  assert.deepEqual(out.handlers.map((h) => h.host).sort(), ['main-1', 'main-2', 'main-3']);
  const after = startTimes(await status());
  assert.deepEqual(after, before, 'no server restarted');
  for (const node of ['main-1', 'main-2', 'main-3']) {
    const r = await sql(node, 'SHOW work_mem');
    assert.equal(r.stdout.trim(), '8MB', `${node}: ${r.stderr}`);
  }
});

void test('max_connections: restarts every server, the replicas before the primary', async () => {
  const before = startTimes(await status());
  await editConfig((doc) => doc.setIn(['postgres', 'settings', 'max_connections'], 150));
  const out = await deploy();
  const restarts = out.handlers.filter((h) => h.handler === `restart:${PG_UNIT}`).map((h) => h.host);
  assert.deepEqual([...restarts].sort(), ['main-1', 'main-2', 'main-3'], JSON.stringify(out.handlers));
  assert.equal(restarts.at(-1), 'main-1', `the primary restarts last: ${restarts.join(', ')}`);
  const after = startTimes(await status());
  for (const node of ['main-1', 'main-2', 'main-3']) {
    assert.notEqual(after[node], before[node], `${node} restarted`);
    const r = await sql(node, 'SHOW max_connections');
    assert.equal(r.stdout.trim(), '150', `${node}: ${r.stderr}`);
  }
  // the postmasters' own start times say the same
  assert.ok(Date.parse(after['main-1']!) > Date.parse(after['main-2']!));
  assert.ok(Date.parse(after['main-1']!) > Date.parse(after['main-3']!));
  await eventuallyPass('after the restarts');
});

void test('a setting the servers cannot start with: the first restarted gets its configuration back and runs, no other is restarted', async () => {
  const nodes = ['main-1', 'main-2', 'main-3'];
  const before = startTimes(await status());
  // valid by the catalogue, but no machine here has a terabyte of memory
  await editConfig((doc) => doc.setIn(['postgres', 'settings', 'shared_buffers'], '1TB'));
  const r = await tpa('deploy', dir);
  assert.equal(r.code, 1, `${r.stdout.slice(-3000)}\n${r.stderr}`);
  const failed =
    /- (main-\d): postgresql@15-main did not start with the new configuration; its previous configuration is back and it runs again/.exec(
      r.stderr,
    );
  assert.ok(failed, r.stderr);
  assert.notEqual(failed[1], 'main-1', `a replica restarts first: ${r.stderr}`);
  const others = nodes.filter((n) => n !== failed[1]);
  for (const n of others) {
    assert.match(r.stderr, new RegExp(`- ${n}: not restarted; its previous configuration files are back`));
  }
  const after = startTimes(await status());
  for (const n of others) assert.equal(after[n], before[n], `${n} was not restarted`);
  assert.notEqual(after[failed[1]!], before[failed[1]!], `${failed[1]} restarted with the old configuration`);
  for (const n of nodes) {
    const conf = await onNode(n, 'grep -c 1TB /etc/postgresql/15/main/conf.d/tpa.conf || true');
    assert.equal(conf.stdout.trim(), '0', `${n}: the bad value is not left on disk`);
    const v = await sql(n, 'SHOW shared_buffers');
    assert.notEqual(v.stdout.trim(), '1TB', n);
  }
  await eventuallyPass('after the rollback');
  // back to what config.yml said before: the rollback left exactly that on every node
  await editConfig((doc) => doc.deleteIn(['postgres', 'settings', 'shared_buffers']));
  const again = await deploy();
  assert.deepEqual(
    again.applied.map((c) => c.summary),
    [],
    'nothing to change after the rollback',
  );
});

void test('a new client CIDR reaches pg_hba and pgbouncer with reloads only', async () => {
  const before = startTimes(await status());
  await editConfig((doc) => {
    const cidrs = doc.getIn(['access', 'client_cidrs']) as { add: (v: string) => void };
    cidrs.add(NEW_CIDR);
  });
  const out = await deploy();
  const handlers = new Set(out.handlers.map((h) => h.handler));
  assert.ok(handlers.has(`reload:${PG_UNIT}`), JSON.stringify(out.handlers));
  assert.ok(![...handlers].some((h) => h.startsWith(`restart:${PG_UNIT}`)), JSON.stringify(out.handlers));
  assert.ok(
    out.applied.some((c) => c.target.endsWith('pg_hba.conf')),
    out.applied.map((c) => c.summary).join('\n'),
  );
  assert.deepEqual(startTimes(await status()), before, 'no server restarted');
  for (const node of ['main-1', 'main-2', 'main-3']) {
    const r = await sql(
      node,
      `SELECT count(*) FROM pg_hba_file_rules WHERE address = '${NEW_CIDR.split('/')[0]}'`,
    );
    assert.ok(Number(r.stdout.trim()) >= 1, `${node} has a rule for ${NEW_CIDR}: ${r.stdout} ${r.stderr}`);
    const b = await onNode(node, 'cat /etc/pgbouncer/hba.conf');
    assert.ok(b.stdout.includes(NEW_CIDR), `${node}: pgbouncer allows ${NEW_CIDR}`);
  }
});

void test('tpa test fails when a replica is stopped, and passes once it runs again', async () => {
  const stop = await onNode('main-3', `systemctl stop ${PG_UNIT}`);
  assert.equal(stop.code, 0, stop.stderr);
  try {
    const report = await expectFailure('postgres-running', 'main-3');
    // what could not be judged is not counted as passed
    const streaming = report.results.find((x) => x.check === 'replica-streaming' && x.node === 'main-3');
    assert.equal(streaming?.status, 'skip');
  } finally {
    await onNode('main-3', `systemctl start ${PG_UNIT}`);
  }
  await eventuallyPass('main-3 started again');
});

void test('tpa test fails when a pgbouncer sends clients to a replica; deploy repairs it', async () => {
  const replica = await address('main-3');
  // the follower would put it back within seconds: stop it first, as a broken host would
  const r = await onNode(
    'main-2',
    'systemctl stop tpa-pgbouncer-follow && ' +
      `sed -i 's/^\\* = host=[^ ]* /* = host=${replica} /' /etc/pgbouncer/tpa/databases.ini && ` +
      'grep -q "host=' +
      replica +
      ' " /etc/pgbouncer/tpa/databases.ini && systemctl reload pgbouncer',
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = await expectFailure('pgbouncer-write', 'main-2');
  assert.match(
    report.results.find((x) => x.check === 'pgbouncer-write' && x.node === 'main-2')!.detail,
    /read-only|recovery|main-3/,
  );
  const out = await deploy();
  assert.ok(out.changes > 0, 'deploy puts the route and the follower back');
  await eventuallyPass('after the repairing deploy');
});

void test('tpa test fails when repmgrd is down; deploy starts it again', async () => {
  const r = await onNode('main-3', 'systemctl stop repmgrd');
  assert.equal(r.code, 0, r.stderr);
  await expectFailure('repmgrd-running', 'main-3');
  const out = await deploy();
  assert.ok(
    out.applied.some((c) => c.host === 'main-3' && c.target === 'repmgrd'),
    out.applied.map((c) => `${c.host} ${c.summary}`).join('\n'),
  );
  await eventuallyPass('after repmgrd was started again');
});

void test('failover: the primary powered off, repmgrd promotes main-2, every pgbouncer follows', async () => {
  const f = await tpa('fault', dir, 'main-1', 'poweroff');
  assert.equal(f.code, 0, f.stderr);
  const started = Date.now();

  let s: StatusReport | undefined;
  let promoted: string | null = null;
  while (Date.now() - started < 90_000) {
    s = await status();
    promoted = s.primaries.main ?? null;
    if (promoted && promoted !== 'main-1') break;
    await sleep(2000);
  }
  assert.equal(promoted, 'main-2', `promoted: ${promoted}; ${JSON.stringify(s?.nodes)}`);
  console.log(`failover: main-2 primary ${((Date.now() - started) / 1000).toFixed(0)} s after the power-off`);
  const m2 = s!.nodes.find((n) => n.node === 'main-2')!;
  assert.ok((m2.timeline ?? 0) >= 2, `a new timeline: ${m2.timeline}`);

  // the pgbouncers of main-2 and main-3 route to main-2, and a write through each lands there
  const newPrimary = await address('main-2');
  const password = (await tpa('secrets', dir, 'postgres_password')).stdout.trim();
  assert.ok(password.length > 0);
  for (const node of ['main-2', 'main-3']) {
    const addr = await address(node);
    let landed = '';
    while (Date.now() - started < 150_000) {
      // this host is a client (10/8, 172.16/12, 192.168/16); the password only in psql's environment
      const w = await run(
        'psql',
        [
          '-X',
          '-A',
          '-t',
          '-q',
          '-d',
          `host=${addr} port=6432 dbname=postgres user=postgres sslmode=require connect_timeout=5`,
          '-c',
          'CREATE TABLE IF NOT EXISTS it_failover (via text); ' +
            `INSERT INTO it_failover VALUES ('${node}'); SELECT host(inet_server_addr())`,
        ],
        { env: { ...process.env, PGPASSWORD: password, PGPASSFILE: '/dev/null' }, timeoutMs: 30_000 },
      );
      landed = w.code === 0 ? w.stdout.trim() : `error: ${w.stderr.trim()}`;
      if (landed === newPrimary) break;
      await sleep(2000);
    }
    assert.equal(landed, newPrimary, `a write through ${node}'s pgbouncer lands on main-2`);
  }
  s = await status();
  for (const node of ['main-2', 'main-3']) {
    assert.equal(
      s.nodes.find((n) => n.node === node)?.pgbouncerTarget,
      'main-2',
      `${node}'s pgbouncer route`,
    );
  }
  const m3 = s.nodes.find((n) => n.node === 'main-3')!;
  assert.deepEqual([m3.role, m3.upstream], ['replica', 'main-2']);
  assert.equal(s.nodes.find((n) => n.node === 'main-1')?.state, 'unreachable');
});

void test('the former primary comes back fenced: its postgres stays down and says why; its pgbouncer sends clients to main-2', async () => {
  const on = await tpa('fault', dir, 'main-1', 'start');
  assert.equal(on.code, 0, on.stderr);
  const password = (await tpa('secrets', dir, 'postgres_password')).stdout.trim();
  const main1 = await address('main-1');
  const main2 = await address('main-2');
  const m2 = main2.replace(/\./g, '\\.');

  // the start guard ran when the machine booted: the unit failed and the journal says why
  const started = Date.now();
  let journal = '';
  while (Date.now() - started < 90_000) {
    const j = await onNode(
      'main-1',
      `journalctl -b -u ${PG_UNIT} --no-pager -o cat | grep -F 'fenced: ' || true`,
    );
    journal = j.stdout.trim();
    if (journal) break;
    await sleep(2000);
  }
  console.log(
    `fenced ${((Date.now() - started) / 1000).toFixed(0)} s after the start: ${journal.split('\n')[0]}`,
  );
  assert.match(
    journal,
    new RegExp(
      `^tpa fence: fenced: ${m2} \\(main-2\\) is the primary now \\(timeline [2-9]\\d*; this node's data is on timeline 1\\)`,
      'm',
    ),
  );
  assert.match(journal, new RegExp(`as root: /usr/local/lib/tpa/postgres-rejoin\\.sh ${m2},`));
  const unitState = async () =>
    (await onNode('main-1', `systemctl is-active ${PG_UNIT} || true`)).stdout.trim();
  assert.equal(await unitState(), 'failed');
  const postmaster = await onNode('main-1', 'pgrep -u postgres -x postgres || true');
  assert.equal(postmaster.stdout.trim(), '', 'no postgres process on main-1');
  const log = await onNode(
    'main-1',
    `grep -cF '[tpa-fence] FATAL:  fenced: ${main2} (main-2)' /var/log/postgresql/postgresql-15-main.log`,
  );
  assert.equal(log.code, 0, "the server's log has the fence message too");

  // a start by hand is refused the same way
  const again = await onNode('main-1', `systemctl start ${PG_UNIT}`);
  assert.notEqual(again.code, 0);
  assert.equal(await unitState(), 'failed');

  // status and test show it as fenced, with main-2 the only primary
  const s = await status();
  assert.equal(s.primaries.main, 'main-2');
  const row = s.nodes.find((n) => n.node === 'main-1')!;
  assert.deepEqual([row.state, row.fenced], ['stopped', true], JSON.stringify(row));
  assert.match(row.detail ?? '', new RegExp(`^fenced: ${m2} \\(main-2\\)`));
  const report = await expectFailure('postgres-running', 'main-1');
  assert.match(
    report.results.find((x) => x.check === 'postgres-running' && x.node === 'main-1')!.detail,
    /fenced: /,
  );
  assert.equal(report.results.find((x) => x.check === 'one-primary')?.status, 'pass');

  // one statement through main-1's pgbouncer, as a client would (password only in the environment)
  const landsOn = async (): Promise<string> => {
    const r = await run(
      'psql',
      [
        '-X',
        '-A',
        '-t',
        '-q',
        '-d',
        `host=${main1} port=6432 dbname=postgres user=postgres sslmode=require connect_timeout=3`,
        '-c',
        "SELECT host(inet_server_addr()) || ' ' || pg_is_in_recovery()",
      ],
      { env: { ...process.env, PGPASSWORD: password, PGPASSFILE: '/dev/null' }, timeoutMs: 15_000 },
    );
    return r.code === 0 ? r.stdout.trim() : `error: ${r.stderr.trim().split('\n').pop() ?? ''}`;
  };
  let landed = await landsOn();
  while (landed.startsWith('error') && Date.now() - started < 120_000) {
    await sleep(2000);
    landed = await landsOn();
  }
  for (let i = 0; i < 5; i++) {
    assert.equal(landed, `${main2} false`, "main-1's pgbouncer routes to main-2");
    await sleep(1000);
    landed = await landsOn();
  }
});

void test('main-1 rejoins with the command its guard gave; config.yml swaps the roles; deploy and tpa test pass', async () => {
  const detail = (await status()).nodes.find((n) => n.node === 'main-1')?.detail ?? '';
  const command = /\(as root: (\S+ \S+), which runs/.exec(detail)?.[1];
  assert.ok(command, detail);
  const r = await onNode('main-1', command);
  console.log(`rejoin: ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const started = Date.now();
  let row: StatusReport['nodes'][number] | undefined;
  while (Date.now() - started < 60_000) {
    row = (await status()).nodes.find((n) => n.node === 'main-1');
    if (row?.role === 'replica' && row.upstream === 'main-2') break;
    await sleep(2000);
  }
  assert.deepEqual(
    [row?.state, row?.role, row?.upstream, row?.fenced],
    ['running', 'replica', 'main-2', undefined],
  );

  // deploy refuses until config.yml says what happened, and says what to change
  const plan = await tpa('plan', dir, '--json');
  const refusals = lastJson<{ refusals: { host?: string; message: string }[] }>(plan).refusals;
  assert.ok(
    refusals.some((x) =>
      /`role: primary` for main-2 and `role: replica` for main-1, then run tpa provision/.test(x.message),
    ),
    JSON.stringify(refusals),
  );
  await editConfig((doc) => {
    doc.setIn(['clusters', 0, 'nodes', 0, 'role'], 'replica');
    doc.setIn(['clusters', 0, 'nodes', 1, 'role'], 'primary');
  });
  const p = await tpa('provision', dir, '--json');
  assert.equal(p.code, 0, `${p.stdout.slice(-3000)}\n${p.stderr.slice(-3000)}`);
  await deploy();
  await eventuallyPass('main-1 rejoined, roles swapped in config.yml');
});

void test('exclusive backups end to end: a barman of its own, backups, and restore --backup ID --into a new cluster that gets its own barman', async () => {
  await editConfig((doc) => {
    doc.setIn(['backup', 'mode'], 'exclusive');
    doc.setIn(['services'], doc.createNode([{ name: 'backup-1', role: 'barman' }]));
    doc.setIn(['clusters', 0, 'backup_server'], 'backup-1');
  });
  const p = await tpa('provision', dir, '--json');
  assert.equal(p.code, 0, `${p.stdout.slice(-3000)}\n${p.stderr.slice(-3000)}`);
  const w1 = await sql(
    'main-2',
    'CREATE TABLE restore_probe (id int PRIMARY KEY); INSERT INTO restore_probe VALUES (1)',
  );
  assert.equal(w1.code, 0, w1.stderr);
  // deploy installs barman on backup-1 for main alone and takes the first full backup
  await deploy();
  await eventuallyPass('exclusive backups deployed');
  const list = await tpa('backups', dir, '--cluster', 'main', '--json');
  assert.equal(list.code, 0, list.stderr);
  const backups = (
    JSON.parse(list.stdout) as { clusters: { backups: { id: string; status: string }[] }[] }
  ).clusters[0]!.backups.filter((b) => b.status === 'DONE');
  assert.equal(backups.length, 1);
  const id = backups[0]!.id;
  const w2 = await sql('main-2', 'INSERT INTO restore_probe VALUES (2); SELECT pg_switch_wal()');
  assert.equal(w2.code, 0, w2.stderr);

  const started = Date.now();
  const r = await tpa('restore', dir, '--cluster', 'main', '--backup', id, '--into', 'copy', '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-4000)}\n${r.stderr.slice(-3000)}`);
  console.log(`restore --backup into copy (exclusive) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // the backup's data, not what came after it
  const rows = await sql(
    'copy-1',
    "SELECT pg_is_in_recovery(), (SELECT string_agg(id::text, ',') FROM restore_probe)",
  );
  assert.equal(rows.stdout.trim(), 'f|1');
  // config.yml is valid and gives the new cluster a barman service of its own, which backs it up
  const v = await tpa('validate', dir);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const config = parseDocument(await readFile(join(dir, 'config.yml'), 'utf8')).toJS() as {
    services: { name: string }[];
    clusters: { name: string; backup_server?: string }[];
  };
  assert.deepEqual(
    config.services.map((x) => x.name),
    ['backup-1', 'copy-barman'],
  );
  assert.equal(config.clusters.find((c) => c.name === 'copy')?.backup_server, 'copy-barman');
  const copyBackups = await tpa('backups', dir, '--cluster', 'copy', '--json');
  assert.equal(copyBackups.code, 0, copyBackups.stderr);
  assert.ok(
    (
      JSON.parse(copyBackups.stdout) as { clusters: { server: string; backups: { status: string }[] }[] }
    ).clusters[0]!.backups.some((b) => b.status === 'DONE'),
    copyBackups.stdout,
  );
  await eventuallyPass('main and copy, each with its own barman');
});

void test('deprovision leaves nothing of the group on the host', async () => {
  const p = prefix;
  assert.ok(p);
  const r = await tpa('deprovision', dir, '--yes', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await leftovers(p), []);
});
