/**
 * The console's API, served by the real server on a loopback port, over a workspace made by
 * the real configure (lxc, not provisioned): access, headers, the config editor, the wizard
 * and jobs. Jobs run the real CLI (bin/tpa), with commands that touch no machine.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { git } from '../clusterdir/git.ts';
import { acquireGroupLock } from '../clusterdir/lock.ts';
import { TPA_BIN } from '../core/files.ts';
import { SECURITY_HEADERS } from './auth.ts';
import { startConsole, type Console } from './test-support.test-helper.ts';
import type { HistoryEntry, JobInfo, JobLogEntry, SaveResult, WizardCheck } from './types.ts';

const run = promisify(execFile);
let ui: Console;
let acme: string;

before(async () => {
  ui = await startConsole();
  acme = join(ui.workspace, 'acme');
});
after(async () => {
  await ui.server.close();
  await rm(ui.workspace, { recursive: true, force: true });
});

const head = async (dir: string) => (await git(dir, ['rev-parse', 'HEAD'])).stdout.trim();

function assertSecurityHeaders(res: Response, what: string) {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers.get(k), v, `${what}: ${k}`);
  const csp = res.headers.get('content-security-policy') ?? '';
  for (const part of [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "frame-ancestors 'none'",
  ]) {
    assert.ok(csp.includes(part), `${what}: CSP has ${part}`);
  }
  assert.ok(!csp.includes('unsafe-inline'), `${what}: no inline scripts or styles`);
}

void test('without the token, or with a wrong one, every request is 401', async () => {
  const url = ui.server.url;
  for (const path of ['', 'app.js', 'api/workspace', 'api/groups/acme/config']) {
    const res = await fetch(new URL(path, url));
    assert.equal(res.status, 401, `/${path} without a token`);
    assertSecurityHeaders(res, `401 /${path}`);
  }
  assert.equal((await fetch(`${url}?token=wrong`, { redirect: 'manual' })).status, 401);
  const wrongCookie = await fetch(new URL('api/workspace', url), {
    headers: { cookie: 'tpa_ui=wrong', 'x-tpa-csrf': ui.csrf },
  });
  assert.equal(wrongCookie.status, 401);
  // the cookie alone is not enough for the API (CSRF), nor a request from another origin
  const noCsrf = await fetch(new URL('api/workspace', url), { headers: { cookie: ui.cookie } });
  assert.equal(noCsrf.status, 401);
  const foreign = await ui.call('POST', '/api/wizard/check', {}, { origin: 'http://evil.example' });
  assert.equal(foreign.status, 401);
  // the Host a page of another site would send after DNS rebinding
  // (fetch does not let a Host header through: node:http does)
  const rebound = await new Promise<number>((resolve, reject) => {
    get(
      new URL('api/workspace', url),
      { headers: { cookie: ui.cookie, 'x-tpa-csrf': ui.csrf, host: 'evil.example' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    ).on('error', reject);
  });
  assert.equal(rebound, 421);
});

void test('the token sets an HttpOnly SameSite=Strict cookie and redirects to the URL without it', async () => {
  const res = await fetch(ui.server.loginUrl, { redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/');
  const cookie = res.headers.get('set-cookie') ?? '';
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assertSecurityHeaders(res, 'redirect');
});

void test('every kind of response carries the security headers: HTML, JS, CSS, JSON, SSE', async () => {
  const html = await ui.call('GET', '/');
  assert.match(html.headers.get('content-type') ?? '', /text\/html/);
  assertSecurityHeaders(html, 'HTML');
  const page = await html.text();
  assert.doesNotMatch(page, /<script>|<style|style=/, 'no inline script or style in the page');
  for (const [path, type] of [
    ['/app.js', /javascript/],
    ['/app.css', /text\/css/],
    ['/api/workspace', /application\/json/],
    ['/api/nothing-here', /application\/json/],
  ] as const) {
    const res = await ui.call('GET', path);
    assert.match(res.headers.get('content-type') ?? '', type, path);
    assertSecurityHeaders(res, path);
  }
  const job = (await (await ui.call('POST', '/api/groups/acme/jobs', jobOf('cost'))).json()) as JobInfo;
  const sse = await ui.call('GET', `/api/groups/acme/jobs/${job.id}/events`);
  assert.match(sse.headers.get('content-type') ?? '', /text\/event-stream/);
  assertSecurityHeaders(sse, 'SSE');
  await sse.text();
});

void test('the workspace lists the group with its platform, clusters, nodes, cost and health', async () => {
  const ws = (await (await ui.call('GET', '/api/workspace')).json()) as { groups: Record<string, unknown>[] };
  const acmeRow = ws.groups.find((g) => g.id === 'acme');
  assert.ok(acmeRow);
  assert.equal(acmeRow.platform, 'lxc');
  assert.equal(acmeRow.nodeCount, 3);
  assert.deepEqual(acmeRow.clusters, [{ name: 'main', nodes: 2 }]);
  assert.equal(acmeRow.provisioned, false);
  const health = (await (await ui.call('GET', '/api/groups/acme/health')).json()) as { state: string };
  assert.equal(health.state, 'not-provisioned');
  // a group id is a directory name of the workspace, nothing else
  assert.equal((await ui.call('GET', '/api/groups/..%2Facme')).status, 400);
});

void test('a bad config.yml from the editor: each error at its line and field, nothing written or committed', async () => {
  const file = join(acme, 'config.yml');
  const before = await readFile(file);
  const commit = await head(acme);
  const text = before.toString().replace(/role: replica/, 'role: leader');
  assert.notEqual(text, before.toString());
  const line = text.split('\n').findIndex((l) => l.includes('role: leader')) + 1;

  const checked = (await (
    await ui.call('POST', '/api/groups/acme/config/validate', { text })
  ).json()) as SaveResult;
  assert.equal(checked.ok, false);
  const saved = await ui.call('PUT', '/api/groups/acme/config', { text, message: 'a bad edit' });
  assert.equal(saved.status, 422);
  const r = (await saved.json()) as SaveResult;
  for (const errors of [checked.errors, r.errors]) {
    const e = errors.find((x) => x.path === 'clusters.0.nodes.1.role');
    assert.ok(e, JSON.stringify(errors));
    assert.equal(e.line, line);
  }
  assert.deepEqual(await readFile(file), before, 'config.yml byte for byte as it was');
  assert.equal(await head(acme), commit, 'no commit');
});

void test('a good edit is written, committed, and in the history with its diff and author', async () => {
  const file = join(acme, 'config.yml');
  const text = (await readFile(file, 'utf8')).replace(/volume_gb: 20/, 'volume_gb: 30');
  const res = await ui.call('PUT', '/api/groups/acme/config', { text, message: 'bigger volumes' });
  assert.equal(res.status, 200);
  const r = (await res.json()) as SaveResult;
  assert.ok(r.ok && r.commit);
  assert.equal(await readFile(file, 'utf8'), text);
  assert.equal(await head(acme), r.commit);
  const history = (await (await ui.call('GET', '/api/groups/acme/history')).json()) as HistoryEntry[];
  assert.equal(history[0]?.hash, r.commit);
  assert.equal(history[0]?.subject, 'bigger volumes');
  assert.match(history[0]?.diff ?? '', /^-\s*volume_gb: 20$/m);
  assert.match(history[0]?.diff ?? '', /^\+\s*volume_gb: 30$/m);
  assert.ok(history[0]?.author);
  assert.equal(history.at(-1)?.subject.startsWith('configure:'), true);
  const json = await ui.call('GET', '/api/groups/acme/config.json');
  assert.match(json.headers.get('content-disposition') ?? '', /attachment/);
  assert.equal(((await json.json()) as { defaults: { volume_gb: number } }).defaults.volume_gb, 30);
});

const jobOf = (verb: string) => ({ verb, args: [], options: {}, confirmed: true });

async function jobLog(id: string): Promise<JobLogEntry[]> {
  const text = await (await ui.call('GET', `/api/groups/acme/jobs/${id}/events`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as JobLogEntry);
}

void test('one job per group: refused while the lock is held, and while a job runs', async () => {
  const lock = acquireGroupLock(acme, 'tpa deploy acme (held by the test)');
  try {
    const res = await ui.call('POST', '/api/groups/acme/jobs', jobOf('validate'));
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as { error: string }).error, /held by the test.*pid \d+/);
  } finally {
    lock.release();
  }
  assert.equal(
    (await ui.call('POST', '/api/groups/acme/jobs', { ...jobOf('validate'), confirmed: false })).status,
    400,
  );
  assert.equal((await ui.call('POST', '/api/groups/acme/jobs', jobOf('psql'))).status, 400);

  const first = await ui.call('POST', '/api/groups/acme/jobs', jobOf('validate'));
  assert.equal(first.status, 202);
  const job = (await first.json()) as JobInfo;
  const second = await ui.call('POST', '/api/groups/acme/jobs', jobOf('cost'));
  assert.equal(second.status, 409);
  assert.match(((await second.json()) as { error: string }).error, new RegExp(`busy: job ${job.id}`));

  const log = await jobLog(job.id);
  const end = log.at(-1);
  assert.equal(end?.type, 'end');
  assert.equal(end.type === 'end' && end.job.state, 'succeeded');
  assert.ok(log.some((e) => e.type === 'result' && (e.result as { ok?: boolean }).ok === true));
  const st = await stat(join(acme, '.tpa', 'jobs', `${job.id}.jsonl`));
  assert.equal(st.mode & 0o777, 0o600);
  const history = (await (await ui.call('GET', '/api/groups/acme/jobs')).json()) as JobInfo[];
  assert.equal(history.find((j) => j.id === job.id)?.state, 'succeeded');
  // the job log stays out of the directory's history
  assert.equal((await git(acme, ['status', '--porcelain'])).stdout, '');
});

void test("the wizard's check: a field error for a bad option, the cost for good ones; writes nothing", async () => {
  const base = { dir: 'beta', clusterName: 'main', architecture: 'M1', platform: 'lxc', replicas: 1 };
  const form = {
    ...base,
    failoverManager: 'repmgr',
    pooler: 'pgbouncer',
    durability: 'async',
    backup: 'shared',
    clientCidrs: [],
    addresses: [],
  };
  const bad = (await (
    await ui.call('POST', '/api/wizard/check', { ...form, clientCidrs: ['10.0.0.0/33'] })
  ).json()) as WizardCheck;
  assert.equal(bad.ok, false);
  assert.ok(bad.fields.clientCidrs?.length, JSON.stringify(bad));
  const taken = (await (
    await ui.call('POST', '/api/wizard/check', { ...form, dir: 'acme' })
  ).json()) as WizardCheck;
  assert.ok(taken.fields.dir?.length);
  const good = (await (await ui.call('POST', '/api/wizard/check', form)).json()) as WizardCheck;
  assert.equal(good.ok, true, JSON.stringify(good));
  assert.deepEqual(good.hosts, ['main-1', 'main-2', 'backup-1']);
  assert.equal(good.cost?.hosts.length, 3);
  await assert.rejects(stat(join(ui.workspace, 'beta')));

  const created = await ui.call('POST', '/api/groups', form);
  assert.equal(created.status, 201);
  const { stdout } = await run(TPA_BIN, ['validate', join(ui.workspace, 'beta'), '--json']);
  assert.equal((JSON.parse(stdout) as { ok: boolean }).ok, true);
  assert.equal((await ui.call('POST', '/api/groups', form)).status, 422, 'not twice');
});
