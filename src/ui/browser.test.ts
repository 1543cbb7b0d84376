/**
 * The console in a real browser: Debian's chromium, driven by playwright-core (pinned to the
 * version that drives its major). Opens the workspace with the token, creates a second group
 * with the wizard (a field error first), makes a bad edit of its config.yml and sees the error
 * at its line, fixes it, saves, and sees the commit in the history; runs a job and sees its
 * log. Takes the README's screenshots (docs/img/). Needs no LXC. Skipped, saying so, only where
 * chromium is missing and cannot be installed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { join } from 'node:path';
import { configure } from '../commands/configure/index.ts';
import { configureRequest, startConsole, type Console } from './test-support.test-helper.ts';
import type { GroupView } from './types.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../docs/img/', import.meta.url));

/** chromium, installed from Debian's packages when missing and we are root; else why not */
function ensureChromium(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.getuid?.() !== 0) return `${CHROMIUM} is missing and installing it needs root`;
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
  });
  if (existsSync(CHROMIUM)) return null;
  return `${CHROMIUM} is missing and apt-get install chromium failed: ${(r.stderr || r.stdout).trim().slice(-300)}`;
}

const missing = ensureChromium();
let ui: Console;
let browser: Browser;
let page: Page;
const cspErrors: string[] = [];

before(async () => {
  if (missing) return;
  ui = await startConsole();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
  });
  mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  if (missing) return;
  await browser?.close();
  await ui?.server.close();
  await rm(ui.workspace, { recursive: true, force: true });
});

void test(
  'the console in chromium: workspace, wizard, config editor, history, a job, pricing',
  { skip: missing ?? false },
  async () => {
    // the token URL leaves a cookie and a URL without the token
    await page.goto(ui.server.loginUrl);
    assert.equal(new URL(page.url()).search, '');
    await page.locator('#groups a', { hasText: 'acme' }).waitFor();
    await page.locator('#groups .badge.not-provisioned').waitFor();
    await page.screenshot({ path: `${SHOTS}ui-workspace.png` });

    // the wizard: a field error as you type, then the estimate, then Create
    await page.goto(`${ui.server.url}#/new`);
    await page.fill('input[name="dir"]', 'beta');
    await page.fill('input[name="clientCidrs"]', '10.0.0.0/33');
    await page.locator('#err-clientCidrs').waitFor();
    assert.match(await page.locator('#err-clientCidrs').innerText(), /10\.0\.0\.0\/33/);
    assert.equal(await page.locator('#create').isDisabled(), true);
    await page.fill('input[name="clientCidrs"]', '10.0.0.0/8');
    await page.locator('#estimate').waitFor();
    await page.locator('#create:not([disabled])').waitFor();
    await page.click('#create');
    await page.waitForURL(/#\/g\/beta\/jobs$/);

    // the config editor: a bad edit shows its error at the line and field; fixed, it saves and commits
    await page.goto(`${ui.server.url}#/g/beta/config`);
    const editor = page.locator('#config-text');
    await editor.waitFor();
    const original = await editor.inputValue();
    const bad = original.replace(/role: replica/, 'role: leader');
    const badLine = bad.split('\n').findIndex((l) => l.includes('role: leader')) + 1;
    await editor.fill(bad);
    await page.click('#validate');
    const issue = page.locator('.issue[data-path="clusters.0.nodes.1.role"]');
    await issue.waitFor();
    assert.equal(await issue.getAttribute('data-line'), String(badLine));
    assert.equal((await page.locator('.gutter .bad').innerText()).trim(), String(badLine));
    await page.click('#save');
    await page.locator('#config-note', { hasText: 'not saved' }).waitFor();

    await editor.fill(original.replace(/volume_gb: 20/, 'volume_gb: 25'));
    await page.fill('#commit-message', 'volumes of 25 GB');
    await page.click('#save');
    await page.locator('#config-note', { hasText: 'saved and committed' }).waitFor();
    await page.goto(`${ui.server.url}#/g/beta/history`);
    const newest = page.locator('#history > li').first();
    await newest.locator('summary', { hasText: 'volumes of 25 GB' }).waitFor();
    await newest.locator('summary').click();
    assert.match(await newest.locator('pre.diff').innerText(), /\+\s*volume_gb: 25/);

    // the group page, then a job: its confirmation says what will run, its log streams
    await page.goto(`${ui.server.url}#/g/acme`);
    await page.locator('#nodes td', { hasText: 'main-2' }).waitFor();
    await page.locator('.summary .badge.not-provisioned').waitFor();
    await page.screenshot({ path: `${SHOTS}ui-group.png` });
    await page.goto(`${ui.server.url}#/g/acme/jobs`);
    await page.selectOption('#job-verb', 'validate');
    await page.click('#job-run');
    assert.match(await page.locator('#job-confirm').innerText(), /tpa validate acme/);
    await page.click('#job-confirm-run');
    await page.locator('#job-log', { hasText: 'job succeeded' }).waitFor({ timeout: 20_000 });
    await page.locator('#job-history .badge.succeeded').waitFor();
    await page.screenshot({ path: `${SHOTS}ui-job.png` });

    // pricing of a cloud group: group -> cluster -> node, the price table's region and date, and
    // the numbers of tpa cost's own estimate
    await configure(configureRequest(join(ui.workspace, 'cloud'), { platform: 'aws', replicas: 2 }));
    const view = (await (await ui.call('GET', '/api/groups/cloud')).json()) as GroupView;
    const cost = view.cost!;
    assert.equal(cost.basis.kind, 'price-table');
    await page.goto(`${ui.server.url}#/g/cloud/pricing`);
    const pricing = page.locator('#pricing');
    await pricing.locator('tr[data-host="main-2"]').waitFor();
    if (cost.basis.kind === 'price-table') {
      const basis = await pricing.locator('.basis').innerText();
      assert.ok(basis.includes(`region ${cost.basis.region}`) && basis.includes(cost.basis.date), basis);
    }
    const host = cost.hosts.find((h) => h.name === 'main-2')!;
    const cells = await pricing.locator('tr[data-host="main-2"] td').allInnerTexts();
    assert.deepEqual(cells, [
      'main-2',
      'replica',
      host.instanceType,
      `$${host.instanceMonthly!.toFixed(2)}`,
      `${host.volumeGb} GB`,
      `$${host.volumeMonthly.toFixed(2)}`,
      `$${host.monthly!.toFixed(2)}`,
    ]);
    const main = cost.clusters.find((c) => c.name === 'main')!;
    assert.equal(
      await pricing.locator('tr[data-cluster="main"] td').innerText(),
      `$${main.monthly.toFixed(2)}`,
    );
    assert.match(await pricing.locator('tr.total').innerText(), new RegExp(`\\$${cost.total.toFixed(2)}`));
    await page.screenshot({ path: `${SHOTS}ui-pricing.png` });

    assert.deepEqual(cspErrors, [], 'nothing on the page broke the Content-Security-Policy');
  },
);
