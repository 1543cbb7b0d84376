import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { evaluate, summarize } from '../../checks/evaluate.ts';
import { healthyEvidence } from '../../../test/support/checks-fixtures.ts';
import { renderTestTable } from './cli.ts';

function report(ev = healthyEvidence(), allowSkips = false) {
  const results = evaluate(ev);
  const s = summarize(results, { allowSkips });
  return {
    group: 'acme',
    ok: s.ok,
    summary: { pass: s.pass, fail: s.fail, skip: s.skip },
    results,
    durationMs: 1234,
  };
}

void test('the table names every check once and ends with the verdict', () => {
  const text = renderTestTable(report());
  assert.match(text, /ok: 29 passed in 1\.2 s/);
  assert.equal(text.match(/replica-streaming/g)?.length, 1);
  assert.doesNotMatch(text, /FAIL/);
});

void test('a failure is marked and named in the last lines', () => {
  const ev = healthyEvidence();
  ev.observations['main-2']!.services.repmgrd = 'failed';
  const text = renderTestTable(report(ev));
  assert.match(text, /FAIL/);
  assert.match(text, /FAILED: 1 failed, 28 passed in 1\.2 s\nfailed: repmgrd-running \(main-2\)\n$/);
});

void test('checks that could not run are counted as not checked and fail the verdict unless allowed', () => {
  const ev = healthyEvidence();
  const refused =
    'FATAL:  no pg_hba.conf entry for host "10.0.3.13", user "postgres", database "postgres", SSL encryption';
  ev.observations['main-3']!.client!.tlsPostgres = { ok: false, output: refused };
  ev.observations['main-3']!.client!.badPasswordPostgres = { ok: false, output: refused };
  const text = renderTestTable(report(ev));
  assert.match(text, /NOT PROVEN: 27 passed, 2 not checked in 1\.2 s\n/);
  assert.match(
    text,
    /not checked: tls-required \(main-3\), wrong-password-refused \(main-3\) \(--allow-skips accepts that\)\n$/,
  );
  assert.doesNotMatch(text, /^ok/m);
  const allowed = renderTestTable(report(ev, true));
  assert.match(allowed, /ok: 27 passed, 2 not checked in 1\.2 s \(not checked allowed by --allow-skips\)\n$/);
});

void test('tpa test: --cluster needs --restore-drill (exit 2); the help explains the drill', () => {
  const tpa = resolve(import.meta.dirname, '../../../bin/tpa');
  const env = { ...process.env, NO_COLOR: '1' };
  const bad = spawnSync(tpa, ['test', '/nonexistent', '--cluster', 'reports'], { env, encoding: 'utf8' });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--cluster chooses the clusters of --restore-drill/);
  const help = spawnSync(tpa, ['test', '--help'], { env, encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--restore-drill/);
  assert.match(help.stdout, /\$ tpa test acme --restore-drill --cluster reports/);
});
