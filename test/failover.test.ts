/**
 * The worst day, on lxc, with writes running through every pgbouncer the whole time (the
 * ledger: a new connection per write, every acknowledged id checked on the primary of now).
 * One 3-node cluster with durability sync, shared by every fault in turn: a partition between
 * the primary and one replica, a replica powered off, then the primary isolated, powered off,
 * its postgres killed and its machine frozen. After each failover the former primary comes
 * back with `tpa rejoin`. For every fault: no acknowledged write lost, never two nodes taking
 * writes at once, writes going again through the poolers. Then `tpa deploy` adopts the
 * primary of now in config.yml (one commit), changes nothing the second time, and `tpa test`
 * passes. The same cluster then changes shape, each operation followed by `tpa test`, an empty
 * `tpa plan` and the exact config.yml diff: switchover and back, a rolling upgrade from the
 * PostgreSQL it was deployed at (15.18, pinned) to 15.20 and a resize of the primary (both under
 * the ledger: no write failed or lost), add-replica (cascading), remove-node, add-cluster and
 * remove-cluster, and a fork into a new cluster. Everything is removed in after() whatever
 * happened. Needs root on a Debian host.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterStatus,
  drill,
  managerLogs,
  newPrimaryWrote,
  operationDrill,
  switchoverDrill,
  type DrillResult,
} from './support/drill.ts';
import { lastJson, readInventory, removePrefixed, run, TPA, tpaEnv, waitFor } from './support/cli.ts';

const GROUP = `it-fo-${process.pid}`;
const OLD_PG = '15.18-0+deb12u1';
const NEW_PG = '15.20-0+deb12u1';
let work: string;
let dir: string;
let env: NodeJS.ProcessEnv;
let prefix: string | undefined;

const tpa = (...args: string[]) => run(TPA, args, { env, timeoutMs: 900_000 });
const status = () => clusterStatus(dir, env);
const primaryNow = async () => (await status()).primaries.main ?? null;
const addressOf = async (node: string) =>
  (await readInventory(dir)).hosts.find((h) => h.name === node)!.address;

/** what every fault must keep: nothing acknowledged is lost, one writer at a time, writes resume */
function safe(r: DrillResult) {
  const summary = JSON.stringify({ ...r, lost: r.lost.slice(0, 10) });
  assert.deepEqual(r.lost, [], `acknowledged writes lost: ${summary}`);
  assert.equal(r.twoWritersAtOnce, false, `two nodes took writes at once: ${summary}`);
  assert.ok(r.mostWritableAtOnce <= 1, `two nodes answered as primaries at once: ${summary}`);
  assert.ok(r.acknowledged > 0, summary);
  console.log(`${r.fault}: ${summary}`);
}

/**
 * A failover drill: done when another node than the old primary acknowledged writes for 2 s.
 * When it fails, the message carries what each node's failover manager logged, and `undo`
 * (tpa fault arguments) lifts the fault so that the tests after it start from a whole cluster.
 */
async function failover(fault: string[], undo?: string[]): Promise<DrillResult> {
  const old = await addressOf((await primaryNow())!);
  try {
    const r = await drill(dir, 'main', {
      env,
      fault,
      maxMs: 120_000,
      afterMs: 2000,
      done: (l, at) => newPrimaryWrote(l, at, old),
    });
    safe(r);
    assert.notEqual(r.after, r.before, `a replica was promoted: ${JSON.stringify(r)}`);
    assert.ok(r.newPrimaryAfterMs !== undefined, 'the new primary took writes through the poolers');
    return r;
  } catch (e) {
    const logs = await managerLogs(dir).catch((x: unknown) => String(x));
    if (undo) await tpa('fault', dir, ...undo);
    throw new Error(`${(e as Error).message}\n-- what the failover managers logged --\n${logs}`, {
      cause: e,
    });
  }
}

async function rejoined(node: string) {
  const r = await tpa('rejoin', dir, node);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const row = (await status()).nodes.find((n) => n.node === node)!;
  assert.equal(row.role, 'replica');
  assert.equal(row.receiver, 'streaming');
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the lxc integration tests run as root');
  work = await mkdtemp(join(tmpdir(), 'tpa-it-fo-'));
  dir = join(work, GROUP);
  env = { ...process.env, ...tpaEnv(work) };
  // an older PostgreSQL than the newest, for tpa upgrade to move it on (Debian 12 carries both)
  const c = await tpa(
    'configure',
    dir,
    '--replicas',
    '2',
    '--backup',
    'none',
    '--durability',
    'sync',
    '--postgres-package-version',
    OLD_PG,
  );
  assert.equal(c.code, 0, c.stderr);
  const p = await tpa('provision', dir);
  prefix = (await readInventory(dir).catch(() => undefined))?.network?.prefix;
  assert.equal(p.code, 0, p.stderr);
  const d = await tpa('deploy', dir);
  assert.equal(d.code, 0, `${d.stdout}\n${d.stderr}`);
});

after(async () => {
  if (dir) await tpa('deprovision', dir, '--yes');
  if (prefix) await removePrefixed(prefix);
  if (work) await rm(work, { recursive: true, force: true });
});

void test('the primary cut off from one replica: no failover, writes go on, nothing lost', async () => {
  const primary = (await primaryNow())!;
  const r = await drill(dir, 'main', { env, fault: ['main-1', 'partition', 'main-2'], maxMs: 15_000 });
  safe(r);
  assert.equal(r.after, primary, 'the other replica still sees the primary: nobody is promoted');
  assert.ok(r.longestGapMs < 10_000, `writes went on: ${JSON.stringify(r)}`);
  assert.equal((await tpa('fault', dir, 'heal')).code, 0);
  await waitFor('main-2 to stream again', 60_000, async () => {
    const row = (await status()).nodes.find((n) => n.node === 'main-2');
    return row?.receiver === 'streaming';
  });
});

void test('a replica powered off: writes go on through the other one (sync), it streams again once started', async () => {
  const primary = (await primaryNow())!;
  const r = await drill(dir, 'main', { env, fault: ['main-3', 'poweroff'], maxMs: 15_000 });
  safe(r);
  assert.equal(r.after, primary);
  assert.ok(r.longestGapMs < 10_000, `writes went on: ${JSON.stringify(r)}`);
  assert.equal((await tpa('fault', dir, 'main-3', 'start')).code, 0);
  await waitFor('main-3 to stream again', 120_000, async () => {
    const row = (await status()).nodes.find((n) => n.node === 'main-3');
    return row?.receiver === 'streaming';
  });
});

void test('the primary isolated: it fences itself before a replica is promoted; rejoin brings it back', async () => {
  const old = (await primaryNow())!;
  await failover([old, 'isolate'], ['heal']);
  // still cut off: its own server was stopped by the fence, and says why
  const row = (await status()).nodes.find((n) => n.node === old)!;
  assert.equal(row.state, 'stopped');
  assert.equal(row.fenced, true, JSON.stringify(row));
  assert.match(row.detail ?? '', /fenced: too few standbys are connected and no other node/);
  assert.equal((await tpa('fault', dir, 'heal')).code, 0);
  await rejoined(old);
});

void test('the primary powered off: a replica takes over; started again, the old primary stays down until rejoined', async () => {
  const old = (await primaryNow())!;
  await failover([old, 'poweroff'], [old, 'start']);
  assert.equal((await tpa('fault', dir, old, 'start')).code, 0);
  await waitFor(`${old}'s start guard to keep it down`, 60_000, async () => {
    const row = (await status()).nodes.find((n) => n.node === old);
    return row?.fenced === true;
  });
  await rejoined(old);
});

void test("the primary's postgres killed: a replica takes over; rejoin", async () => {
  const old = (await primaryNow())!;
  await failover([old, 'kill', 'postgres']);
  await rejoined(old);
});

void test('the primary frozen: a replica takes over; thawed, the old primary stops itself at once; rejoin', async () => {
  const old = (await primaryNow())!;
  const r = await failover([old, 'freeze'], [old, 'thaw']);
  assert.equal((await tpa('fault', dir, old, 'thaw')).code, 0);
  await waitFor(`${old} to fence itself after the thaw`, 30_000, async () => {
    const row = (await status()).nodes.find((n) => n.node === old);
    return row?.state === 'stopped';
  });
  const row = (await status()).nodes.find((n) => n.node === old)!;
  assert.match(row.detail ?? '', /is a primary too/, JSON.stringify(row));
  assert.equal(r.lost.length, 0);
  await rejoined(old);
});

void test('bad requests: rejoin or rebuild the primary, rejoin a healthy standby, an unknown node: exit 2', async () => {
  const s = await status();
  const primary = s.primaries.main!;
  const standby = s.nodes.find((n) => n.node !== primary)!.node;
  for (const [args, re] of [
    [['rejoin', dir, primary], /is the primary of cluster main now/],
    [['rebuild', dir, primary], /is the primary of cluster main now/],
    [['rejoin', dir, standby], /is a healthy standby/],
    [['rejoin', dir, 'nope-1'], /no node nope-1/],
  ] as const) {
    const r = await tpa(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

void test('rebuild: a standby is cloned afresh from the primary of now and streams', async () => {
  const s = await status();
  const standby = s.nodes.find((n) => n.node !== s.primaries.main)!.node;
  const r = await tpa('rebuild', dir, standby);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const row = (await status()).nodes.find((n) => n.node === standby)!;
  assert.equal(row.receiver, 'streaming');
});

void test('deploy adopts the primary of now (one commit), then changes nothing; tpa test passes', async () => {
  const primary = (await primaryNow())!;
  const d = await tpa('deploy', dir);
  assert.equal(d.code, 0, `${d.stdout}\n${d.stderr}`);
  const log = await run('git', ['-C', dir, 'log', '--format=%s', '-3']);
  if (primary !== 'main-1') assert.match(log.stdout, new RegExp(`^failover: main-1 -> ${primary}$`, 'm'));
  const again = await tpa('deploy', dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout + again.stderr, /no changes/);
  const t = await tpa('test', dir);
  assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
});

void test('switchover: refused with nothing changed for the primary itself, an unknown node, a stopped standby (exit 2)', async () => {
  const s = await status();
  const primary = s.primaries.main!;
  const standby = s.nodes.find((n) => n.node !== primary)!.node;
  for (const [args, re] of [
    [['--to', primary], /is the primary of cluster main already/],
    [['--to', 'nope-1'], /no node nope-1/],
    [['--cluster', 'nope'], /no cluster nope/],
  ] as const) {
    const r = await tpa('switchover', dir, ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const stop = await tpa('ssh', dir, standby, '--', 'systemctl stop postgresql@15-main');
  assert.equal(stop.code, 0, stop.stderr);
  const r = await tpa('switchover', dir, '--to', standby);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`every node of cluster main must be up for a switchover: ${standby} is stopped`),
  );
  assert.equal(await primaryNow(), primary, 'nothing changed');
  const start = await tpa('ssh', dir, standby, '--', 'systemctl start postgresql@15-main');
  assert.equal(start.code, 0, start.stderr);
  await waitFor(`${standby} to stream again`, 60_000, async () => {
    const row = (await status()).nodes.find((n) => n.node === standby);
    return row?.receiver === 'streaming';
  });
});

void test('switchover and back: every write acknowledged, none failed, config.yml records each move', async () => {
  const first = (await primaryNow())!;
  const target = (await status()).nodes.find((n) => n.node !== first && n.receiver === 'streaming')!.node;
  for (const [from, to] of [
    [first, target],
    [target, first],
  ]) {
    const r = await switchoverDrill(dir, 'main', env, ['--to', to!]);
    console.log(`switchover ${from} -> ${to}: ${JSON.stringify({ ...r, lost: r.lost.length })}`);
    assert.equal(r.code, 0, JSON.stringify(r));
    assert.equal(r.from, from);
    assert.equal(r.to, to);
    assert.deepEqual(r.lost, [], 'no acknowledged write lost');
    assert.equal(r.failedDuring, 0, `clients saw errors: ${r.errors.join(' | ')}`);
    assert.equal(r.twoWritersAtOnce, false);
    const log = await run('git', ['-C', dir, 'log', '--format=%s', '-1']);
    assert.equal(log.stdout.trim(), `switchover: ${from} -> ${to}`);
    const rows = (await status()).nodes;
    for (const n of rows.filter((x) => x.node !== to)) assert.equal(n.upstream, to, JSON.stringify(n));
  }
  const t = await tpa('test', dir);
  assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
});

void test(`upgrade ${OLD_PG} -> ${NEW_PG} under writes: a version the mirror lacks is refused; then no write failed or lost, the pin follows`, async () => {
  const versions = async () => {
    const info = await tpa('info', dir, '--json');
    assert.equal(info.code, 0, info.stderr);
    const hosts = lastJson<{ hosts: { name: string; packages: Record<string, string> }[] }>(info).hosts;
    return Object.fromEntries(
      hosts.map((h) => [h.name, `${h.packages['postgresql-15']} ${h.packages['postgresql-client-15']}`]),
    );
  };
  const all = (v: string) => ({ 'main-1': `${v} ${v}`, 'main-2': `${v} ${v}`, 'main-3': `${v} ${v}` });
  assert.deepEqual(await versions(), all(OLD_PG), 'deploy installed the pinned version');
  const head = (await run('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim();
  const bad = await tpa('upgrade', dir, '--to', '15.99');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(
    bad.stderr,
    /PostgreSQL 15\.99 is not in the package mirror of main-\d: it offers 15\.20-0\+deb12u1, 15\.18-0\+deb12u1/,
  );
  assert.equal((await run('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim(), head, 'no commit');

  const r = await operationDrill('upgrade', dir, 'main', env, []);
  console.log(`upgrade: ${JSON.stringify({ ...r, lost: r.lost.length, writers: r.writers.length })}`);
  assert.equal(r.code, 0, JSON.stringify(r));
  assert.deepEqual(r.lost, [], 'no acknowledged write lost');
  assert.equal(r.failedDuring, 0, `clients saw errors: ${r.errors.join(' | ')}`);
  assert.equal(r.twoWritersAtOnce, false);
  const out = r.result as { target: string; nodes: { node: string; as: string }[]; switchovers: unknown[] };
  assert.equal(out.target, NEW_PG);
  assert.deepEqual(
    out.nodes.map((n) => n.as),
    ['standby', 'standby', 'standby'],
    'the primary was switched over, then upgraded as a standby',
  );
  assert.equal(out.switchovers.length, 1);
  assert.deepEqual(await versions(), all(NEW_PG));
  for (const n of (await status()).nodes) assert.equal(n.version, '15.20', JSON.stringify(n));
  const commit = await commitWith(`upgrade: PostgreSQL ${OLD_PG} -> ${NEW_PG}`);
  assert.deepEqual(await configDiff(commit), [
    `-  package_version: ${OLD_PG}`,
    `+  package_version: ${NEW_PG}`,
  ]);
  await planIsEmpty('after the upgrade');
  const t = await tpa('test', dir);
  assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
  const again = await tpa('upgrade', dir, '--json');
  assert.equal(again.code, 0, again.stderr);
  const second = lastJson<{ nodes: unknown[]; commit: string | null }>(again);
  assert.deepEqual([second.nodes, second.commit], [[], null], 'a second run changes nothing');
});

void test('resize the primary under writes: it hands over first, its limits and shared_buffers follow, no write failed; again changes nothing', async () => {
  const primary = (await primaryNow())!;
  const r = await operationDrill('resize', dir, 'main', env, [primary, '--instance-type', 'medium']);
  console.log(
    `resize ${primary}: ${JSON.stringify({ ...r, lost: r.lost.length, writers: r.writers.length })}`,
  );
  assert.equal(r.code, 0, JSON.stringify(r));
  assert.deepEqual(r.lost, [], 'no acknowledged write lost');
  assert.equal(r.failedDuring, 0, `clients saw errors: ${r.errors.join(' | ')}`);
  const out = r.result as { switchover?: { from: string }; restarted: boolean; machine: string[] };
  assert.equal(out.switchover?.from, primary, 'the primary handed over before its restart');
  assert.equal(out.restarted, true);
  assert.notEqual(await primaryNow(), primary);
  const container = (await readInventory(dir)).hosts.find((h) => h.name === primary)!.platformId!;
  const v1 = await run('lxc-cgroup', ['-n', container, 'memory.limit_in_bytes']);
  const mem = v1.code === 0 ? v1.stdout : (await run('lxc-cgroup', ['-n', container, 'memory.max'])).stdout;
  assert.equal(Number(mem.trim()), 2048 * 1024 * 1024, 'the memory limit is the medium size, live');
  const sb = await tpa('psql', dir, primary, '--', '-Atc', 'SHOW shared_buffers');
  assert.equal(sb.stdout.trim(), '512MB', sb.stderr);
  const commit = await commitWith(`resize: ${primary} small, 20 GB -> medium, 20 GB`);
  const diff = await configDiff(commit);
  assert.equal(diff.length, 2, diff.join('\n'));
  assert.match(
    diff[1]!,
    new RegExp(`^\\+ +- \\{ name: ${primary}, role: primary.*, instance_type: medium \\}$`),
  );
  await planIsEmpty('after resize');
  const t = await tpa('test', dir);
  assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
  const again = await tpa('resize', dir, primary, '--instance-type', 'medium', '--json');
  assert.equal(again.code, 0, again.stderr);
  const second = lastJson<{ commit: string | null; restarted: boolean; settings: string[] }>(again);
  assert.deepEqual([second.commit, second.restarted, second.settings], [null, false, []]);
  const bad = await tpa('resize', dir, primary, '--instance-type', 'huge');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /instance type "huge" is not known on platform lxc/);
});

/** the newest commit with this subject (deploy may commit after it: a new node's TLS certificate) */
async function commitWith(subject: string): Promise<string> {
  const log = await run('git', ['-C', dir, 'log', '--format=%H %s', '-5']);
  const line = log.stdout.split('\n').find((l) => l.slice(41) === subject);
  assert.ok(line, `a commit "${subject}" among the last five:\n${log.stdout}`);
  return line.slice(0, 40);
}

/** what that commit changed in config.yml, without the header lines */
async function configDiff(commit: string): Promise<string[]> {
  const d = await run('git', ['-C', dir, 'diff', `${commit}~1`, commit, '--unified=0', '--', 'config.yml']);
  return d.stdout.split('\n').filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---) /.test(l));
}

async function planIsEmpty(label: string) {
  const plan = await tpa('plan', dir, '--json');
  assert.equal(plan.code, 0, plan.stderr);
  const p = lastJson<{ changes: number; hosts: { host: string; changes: unknown[] }[] }>(plan);
  assert.equal(p.changes, 0, `${label}: ${JSON.stringify(p.hosts.filter((h) => h.changes.length))}`);
}

void test('add-replica: refused with nothing changed for a used name or another cluster; a cascading replica streams on the first run', async () => {
  const head = (await run('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim();
  for (const [args, re] of [
    [['--name', 'main-2'], /main-2 is already a host of this group/],
    [['--cluster', 'nope'], /no cluster nope in this group/],
    [['--upstream', 'ghost'], /no node ghost in cluster main/],
  ] as const) {
    const r = await tpa('add-replica', dir, ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.equal((await run('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim(), head, 'no commit');

  const primary = (await primaryNow())!;
  const upstream = (await status()).nodes.find((n) => n.node !== primary && n.receiver === 'streaming')!.node;
  const r = await tpa('add-replica', dir, '--upstream', upstream, '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  const out = lastJson<{ node: string; durationMs: number; provisionMs: number; deployMs: number }>(r);
  console.log(`add-replica ${out.node}: ${JSON.stringify(out)}`);
  assert.equal(out.node, 'main-4');
  const row = (await status()).nodes.find((n) => n.node === 'main-4')!;
  assert.equal(row.role, 'replica');
  assert.equal(row.receiver, 'streaming');
  assert.equal(row.upstream, upstream);
  assert.equal(row.pgbouncerTarget, primary, 'its pgbouncer sends clients to the primary');
  const added = await commitWith(`add-replica: main-4 in cluster main, streaming from ${upstream}`);
  assert.deepEqual(await configDiff(added), [
    `+      - { name: main-4, role: replica, upstream: ${upstream} }`,
  ]);
  const t = await tpa('test', dir);
  assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
  await planIsEmpty('after add-replica');
});

void test('remove-node: refused for the primary; the replica main-4 cascades from goes, main-4 follows the primary, the machine is gone', async () => {
  const primary = (await primaryNow())!;
  const refused = await tpa('remove-node', dir, primary, '--yes');
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /is the primary of cluster main: a primary is not removed/);
  const unconfirmed = await tpa('remove-node', dir, 'main-4');
  assert.equal(unconfirmed.code, 2, 'no terminal, no --yes: refused');

  const cfg = await readFile(join(dir, 'config.yml'), 'utf8');
  const order = [...cfg.matchAll(/- \{ name: (main-\d+),/g)].map((m) => m[1]!);
  const gone = /upstream: (main-\d) \}/.exec(cfg.split('\n').find((l) => l.includes('name: main-4'))!)![1]!;
  const container = (await readInventory(dir)).hosts.find((h) => h.name === gone)!.platformId!;
  const r = await tpa('remove-node', dir, gone, '--yes', '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  const s = await status();
  assert.deepEqual(
    s.nodes.map((n) => n.node).sort(),
    [primary, 'main-4', ...s.nodes.map((n) => n.node).filter((n) => n !== primary && n !== 'main-4')].sort(),
  );
  assert.ok(!s.nodes.some((n) => n.node === gone), `${gone} is gone from status`);
  const row = s.nodes.find((n) => n.node === 'main-4')!;
  assert.equal(row.upstream, primary, JSON.stringify(row));
  assert.equal(row.receiver, 'streaming');
  assert.notEqual((await run('lxc-info', ['-n', container])).code, 0, `container ${container} is destroyed`);
  const removed = await commitWith(`remove-node: ${gone} from cluster main; main-4 streams from ${primary}`);
  const diff = await configDiff(removed);
  // the node goes, main-4 loses its upstream, and the nodes after it keep their repmgr ids
  // (the lines as they were: an earlier test may have moved the primary or resized a node)
  const after = order.slice(order.indexOf(gone) + 1);
  const lineOf = (n: string) => cfg.split('\n').find((l) => l.includes(`- { name: ${n},`))!;
  assert.ok(diff.includes(`-${lineOf(gone)}`), diff.join('\n'));
  assert.deepEqual(
    diff.filter((l) => l.startsWith('+')),
    after.map(
      (n) =>
        `+${lineOf(n)
          .replace(/, upstream: main-\d+/, n === 'main-4' ? '' : '$&')
          .replace(/ \}$/, `, node_id: ${order.indexOf(n) + 1} }`)}`,
    ),
    diff.join('\n'),
  );
  // the primary's repmgr knows it no more, and no slot is left behind for it
  const q = (sql: string) =>
    tpa('ssh', dir, primary, '--', `cd / && runuser -u postgres -- psql -X -A -t -q -d repmgr -c "${sql}"`);
  const records = await q(
    "SELECT string_agg(node_name || '=' || node_id, ' ' ORDER BY node_id) FROM repmgr.nodes",
  );
  assert.equal(
    records.stdout.trim(),
    order
      .filter((n) => n !== gone)
      .map((n) => `${n}=${order.indexOf(n) + 1}`)
      .join(' '),
    `every node keeps its id, ${gone} has none: ${records.stderr}`,
  );
  const slots = await q('SELECT count(*) FROM pg_replication_slots WHERE NOT active');
  assert.equal(slots.stdout.trim(), '0', slots.stderr);
  const t = await tpa('test', dir);
  assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
  await planIsEmpty('after remove-node');
});

void test('add-cluster and remove-cluster: a second cluster runs beside main, then goes with its machine; main is untouched', async () => {
  const taken = await tpa('add-cluster', dir, 'main');
  assert.equal(taken.code, 2, taken.stderr);
  assert.match(taken.stderr, /has a cluster main already/);
  const only = await tpa('remove-cluster', dir, 'main', '--yes');
  assert.equal(only.code, 2, only.stderr);
  assert.match(only.stderr, /main is the only cluster of this group/);

  const mainBefore = (await status()).nodes
    .filter((n) => n.cluster === 'main')
    .map((n) => [n.node, n.startedAt]);
  const r = await tpa('add-cluster', dir, 'reports', '--replicas', '0', '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  console.log(`add-cluster reports: ${JSON.stringify(lastJson(r))}`);
  const s = await status();
  assert.equal(s.primaries.reports, 'reports-1');
  const added = await commitWith('add-cluster: reports (reports-1)');
  const t = await tpa('test', dir);
  assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
  await planIsEmpty('after add-cluster');

  const container = (await readInventory(dir)).hosts.find((h) => h.name === 'reports-1')!.platformId!;
  const rm = await tpa('remove-cluster', dir, 'reports', '--yes');
  assert.equal(rm.code, 0, `${rm.stdout.slice(-3000)}\n${rm.stderr.slice(-3000)}`);
  assert.notEqual((await run('lxc-info', ['-n', container])).code, 0, `container ${container} is destroyed`);
  await commitWith('remove-cluster: reports (reports-1)');
  const d = await run('git', ['-C', dir, 'diff', `${added}~1`, 'HEAD', '--', 'config.yml']);
  assert.equal(d.stdout, '', 'config.yml is as before add-cluster');
  const mainAfter = (await status()).nodes
    .filter((n) => n.cluster === 'main')
    .map((n) => [n.node, n.startedAt]);
  assert.deepEqual(mainAfter, mainBefore, "main's servers were not restarted");
  await planIsEmpty('after remove-cluster');
});

void test('fork: a replica becomes the primary of a new cluster with the data of the moment of the fork, then both diverge; main is untouched', async () => {
  const sql = (node: string, q: string) => tpa('psql', dir, node, '--', '-Atc', q);
  const primary = (await primaryNow())!;
  const node = (await status()).nodes.find(
    (n) => n.cluster === 'main' && n.node !== primary && n.upstream === primary,
  )!.node;
  assert.equal(
    (
      await sql(
        primary,
        "CREATE TABLE fork_marks (id int, note text); INSERT INTO fork_marks VALUES (1, 'before')",
      )
    ).code,
    0,
  );
  const bad = await tpa('fork', dir, primary, '--into', 'side');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /is the primary of cluster main/);
  const r = await tpa('fork', dir, node, '--into', 'side', '--json');
  assert.equal(r.code, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  const out = lastJson<{ timeline: number; forkLsn: string }>(r);
  console.log(`fork ${node}: ${JSON.stringify(out)}`);
  const s = await status();
  assert.equal(s.primaries.side, node);
  assert.equal(s.primaries.main, primary, 'main keeps its primary');
  const mainTimeline = s.nodes.find((n) => n.node === primary)!.timeline!;
  assert.ok(
    out.timeline > mainTimeline,
    `the fork runs on a timeline of its own (${out.timeline} > ${mainTimeline})`,
  );
  assert.equal((await sql(primary, "INSERT INTO fork_marks VALUES (2, 'main after')")).code, 0);
  assert.equal((await sql(node, "INSERT INTO fork_marks VALUES (3, 'side after')")).code, 0);
  assert.equal((await sql(node, 'SELECT id FROM fork_marks ORDER BY id')).stdout.trim(), '1\n3');
  assert.equal((await sql(primary, 'SELECT id FROM fork_marks ORDER BY id')).stdout.trim(), '1\n2');
  const commit = await commitWith(`fork: ${node} of cluster main into the new cluster side`);
  const diff = await configDiff(commit);
  assert.ok(
    diff.some((l) => new RegExp(`^- +- \\{ name: ${node}, role: replica`).test(l)),
    diff.join('\n'),
  );
  assert.ok(diff.includes('+  - name: side'), diff.join('\n'));
  assert.ok(
    diff.some((l) =>
      new RegExp(`^\\+ +- \\{ name: ${node}, role: primary(, instance_type: medium)? \\}$`).test(l),
    ),
    diff.join('\n'),
  );
  const t = await tpa('test', dir);
  assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);
  await planIsEmpty('after fork');
});
