/**
 * repmgr and pgbouncer end to end on real LXC nodes: a 3-node M1 cluster with a cascaded
 * replica (main-3 streams from main-2) is deployed; the primary's power is cut; repmgrd
 * promotes main-2 and every pgbouncer follows it; the former primary comes back unfenced and
 * its own pgbouncer still sends clients to main-2. Writes go through pgbouncer over TLS with
 * the customer's postgres password, as a client would. Ends with deprovision.
 * Needs root on a Debian host; about 8 minutes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Inventory } from '../src/platforms/platform.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TPA = join(ROOT, 'bin/tpa');
const GROUP = `it-rmgr-${process.pid}`;

let work = '';
let dir = '';
let prefix: string | undefined;
let inv: Inventory;
let password = '';
const saved: Record<string, string | undefined> = {};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 900_000, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

const tpa = (...args: string[]) => run(TPA, args);
const sh = (script: string) => run('/bin/sh', ['-c', script]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const address = (node: string) => {
  const h = inv.hosts.find((x) => x.name === node);
  assert.ok(h, `inventory has ${node}`);
  return h.address;
};

/** one statement through a node's pgbouncer, TLS required, as postgres (password in the environment) */
function viaPgbouncer(node: string, sql: string): Promise<Run> {
  const conninfo = `host=${address(node)} port=6432 dbname=postgres user=postgres sslmode=require connect_timeout=3`;
  return run('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo, '-c', sql], {
    timeoutMs: 15_000,
    env: { ...process.env, PGPASSWORD: password },
  });
}

/** the server a node's pgbouncer lands on: `<address> <in recovery>` */
async function landsOn(node: string): Promise<string> {
  const r = await viaPgbouncer(node, "SELECT host(inet_server_addr()) || ' ' || pg_is_in_recovery()");
  return r.code === 0 ? r.stdout.trim() : `error: ${r.stderr.trim().split('\n').pop() ?? ''}`;
}

async function until(what: string, limitMs: number, probe: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    if (await probe()) return Date.now() - t0;
    await sleep(2000);
  }
  assert.fail(`${what}: not within ${limitMs / 1000} s`);
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the lxc integration tests run as root');
  work = await mkdtemp(join(tmpdir(), 'tpa-it-rmgr-'));
  dir = join(work, GROUP);
  const env = { TPA_KEY_FILE: join(work, 'secret.key'), TPA_CACHE_DIR: join(work, 'cache'), NO_COLOR: '1' };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});

after(async () => {
  if (dir) await tpa('deprovision', dir, '--yes');
  if (prefix) {
    const p = prefix;
    await sh(`for c in $(lxc-ls -1 | grep '^${p}-'); do lxc-stop -k -n "$c"; lxc-destroy -n "$c"; done`);
  }
  if (work) await rm(work, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

void test('a cascaded M1 cluster deploys; every pgbouncer routes to the primary over TLS', async () => {
  const c = await tpa('configure', dir, '--replicas', '2', '--backup', 'none');
  assert.equal(c.code, 0, c.stderr);
  const configFile = join(dir, 'config.yml');
  const config = await readFile(configFile, 'utf8');
  const cascaded = config.replace(
    /\{ name: main-3, role: replica \}/,
    '{ name: main-3, role: replica, upstream: main-2 }',
  );
  assert.notEqual(cascaded, config, 'config.yml lists main-3 as expected');
  await writeFile(configFile, cascaded);

  const p = await tpa('provision', dir);
  assert.equal(p.code, 0, `${p.stdout}\n${p.stderr}`);
  inv = JSON.parse(await readFile(join(dir, 'inventory.json'), 'utf8')) as Inventory;
  prefix = inv.network?.prefix;

  const d = await tpa('deploy', dir);
  assert.equal(d.code, 0, `${d.stdout}\n${d.stderr}`);
  const again = await tpa('plan', dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /no changes/);

  const s = await tpa('secrets', dir, 'postgres_password');
  assert.equal(s.code, 0, s.stderr);
  password = s.stdout.trim();
  assert.ok(password.length >= 12);

  for (const node of ['main-1', 'main-2', 'main-3']) {
    assert.equal(await landsOn(node), `${address('main-1')} false`, node);
  }
  const w = await viaPgbouncer('main-3', 'CREATE TABLE drill (id int); INSERT INTO drill VALUES (1)');
  assert.equal(w.code, 0, w.stderr);

  const show = await tpa(
    'ssh',
    dir,
    'main-3',
    'cd / && runuser -u postgres -- repmgr -f /etc/repmgr.conf cluster show --csv',
  );
  assert.equal(show.code, 0, show.stderr);
  assert.deepEqual(show.stdout.trim().split('\n').sort(), ['1,0,0', '2,0,1', '3,0,1']);
});

void test('the primary loses power: repmgrd promotes main-2 and every pgbouncer follows', async () => {
  const off = await tpa('fault', dir, 'main-1', 'poweroff');
  assert.equal(off.code, 0, off.stderr);
  const want = `${address('main-2')} false`;
  await until('both pgbouncers land on the promoted main-2', 150_000, async () => {
    return (await landsOn('main-2')) === want && (await landsOn('main-3')) === want;
  });
  // what was written before the failover is there, and writes go on through any pgbouncer
  const w = await viaPgbouncer('main-3', 'INSERT INTO drill VALUES (2); SELECT count(*) FROM drill');
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout.trim(), '2');

  const log = await tpa('ssh', dir, 'main-2', 'cat /var/log/postgresql/repmgr-events.log');
  assert.match(log.stdout, /\tnode=2\tevent=standby_promote\tsuccess=1\t/);
  assert.match(log.stdout, /\tnode=2\tevent=repmgrd_failover_promote\tsuccess=1\t/);
  const route = await tpa('ssh', dir, 'main-3', 'cat /etc/pgbouncer/tpa/databases.ini');
  assert.match(
    route.stdout,
    new RegExp(`^\\* = host=${address('main-2').replaceAll('.', '\\.')} port=5432$`, 'm'),
  );
});

void test('the former primary comes back unfenced: its own pgbouncer still sends clients to main-2', async () => {
  const on = await tpa('fault', dir, 'main-1', 'start');
  assert.equal(on.code, 0, on.stderr);
  // main-1's postgres starts as a primary on the old timeline; its pgbouncer checks the route
  // before it starts, and the follower keeps it there
  await until('main-1 runs its old primary again', 60_000, async () => {
    const r = await tpa(
      'ssh',
      dir,
      'main-1',
      "cd / && runuser -u postgres -- psql -XAtc 'SELECT pg_is_in_recovery()'",
    );
    return r.stdout.trim() === 'f';
  });
  await until(
    "main-1's pgbouncer answers",
    60_000,
    async () => !(await landsOn('main-1')).startsWith('error'),
  );
  for (let i = 0; i < 5; i++) {
    assert.equal(await landsOn('main-1'), `${address('main-2')} false`);
    await sleep(1000);
  }
});
