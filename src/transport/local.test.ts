import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectingSink } from '../core/events.ts';
import { RemoteCommandError } from '../core/errors.ts';
import { LocalTransport } from './local.ts';
import { CommandTimeoutError } from './transport.ts';

const t = new LocalTransport({ host: 'here' });

void test('exec returns stdout, stderr and the exit code', async () => {
  const r = await t.exec('echo out; echo err >&2; exit 3', { check: false });
  assert.deepEqual(r, { stdout: 'out\n', stderr: 'err\n', exitCode: 3, signal: null });
});

void test('a non-zero exit is a RemoteCommandError with host, command and redacted stderr', async () => {
  const err = await t
    .exec('echo "password s3cret rejected" >&2; exit 7', { redact: ['s3cret'], step: 'auth' })
    .then(
      () => assert.fail('should have thrown'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof RemoteCommandError);
  assert.equal(err.details.exitCode, 7);
  assert.equal(err.details.host, 'here');
  assert.equal(err.step, 'auth');
  assert.match(err.details.stderr, /password \*\*\* rejected/);
  assert.doesNotMatch(err.message, /s3cret/);
  assert.doesNotMatch(err.details.command, /s3cret/);
});

void test('stdin reaches the command', async () => {
  const r = await t.exec('tr a-z A-Z', { stdin: 'secret text' });
  assert.equal(r.stdout, 'SECRET TEXT');
});

void test('output is streamed line by line as events, redacted', async () => {
  const sink = collectingSink();
  await t.exec('echo one; echo "two pw=hunter2"; printf three', { events: sink, redact: ['hunter2'] });
  const texts = sink.events.map((e) => (e.kind === 'output' ? `${e.stream}:${e.text}` : e.kind));
  assert.deepEqual(texts, ['stdout:one', 'stdout:two pw=***', 'stdout:three']);
});

void test('a timeout kills the whole process group', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-local-'));
  try {
    const marker = join(dir, 'survived');
    const started = Date.now();
    const err = await t.exec(`(sleep 1.5; touch ${marker}) & sleep 30`, { timeoutMs: 300 }).then(
      () => assert.fail('should have timed out'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CommandTimeoutError);
    assert.equal(err.details.signal, 'SIGKILL');
    assert.ok(Date.now() - started < 5000);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(existsSync(marker), false, 'the background child was killed with its group');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a command leaving a daemon holding its pipes still returns', async () => {
  const started = Date.now();
  const r = await t.exec('sleep 20 & echo $!');
  assert.ok(Date.now() - started < 10000);
  process.kill(Number(r.stdout.trim()), 'SIGKILL');
});

void test('upload writes atomically with mode and owner', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-local-'));
  try {
    const path = join(dir, 'conf file');
    await t.upload(path, 'first\n', { mode: 0o600 });
    assert.equal(readFileSync(path, 'utf8'), 'first\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const bin = Buffer.from([0, 1, 2, 255, 10]);
    await t.upload(path, bin, { mode: 0o640, owner: 'nobody', group: 'nogroup' });
    assert.deepEqual(readFileSync(path), bin);
    const st = statSync(path);
    assert.equal(st.mode & 0o777, 0o640);
    if (process.getuid?.() === 0) {
      const ids = await t.exec('id -u nobody; getent group nogroup | cut -d: -f3');
      assert.deepEqual(ids.stdout.trim().split('\n').map(Number), [st.uid, st.gid]);
    }
    assert.deepEqual(readdirSync(dir), ['conf file'], 'no temp file left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a failed upload leaves no temp file and names the path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-local-'));
  try {
    const err = await t.upload(join(dir, 'x'), 'x', { owner: 'no-such-user-tpa' }).then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RemoteCommandError);
    assert.match(err.step ?? '', /upload .*x/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
