import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectingSink } from '../core/events.ts';
import { LocalTransport } from '../transport/local.ts';
import { parseCheckOutput, runChecks } from './checks.ts';

const dir = await mkdtemp(join(tmpdir(), 'tpa-checks-'));
after(() => rm(dir, { recursive: true, force: true }));
const transports = { h: new LocalTransport({ host: 'h' }) };

void test('a check that did not report is a failure', () => {
  const out = parseCheckOutput(
    [
      { name: 'a', command: 'true' },
      { name: 'b', command: 'true' },
    ],
    `K\t0\t0\t\n`,
  );
  assert.deepEqual(
    out.map((o) => [o.name, o.ok]),
    [
      ['a', true],
      ['b', false],
    ],
  );
});

void test('healthy checks pass in one round; a slow one is retried until it passes', async () => {
  const flag = join(dir, 'ready');
  setTimeout(() => void writeFile(flag, ''), 300);
  const events = collectingSink();
  const failures = await runChecks(
    new Map([
      [
        'h',
        [
          { name: 'always', command: 'true' },
          { name: 'eventually', command: `test -f ${flag}` },
        ],
      ],
    ]),
    { transports, events, concurrency: 2, redact: [], settleMs: 5000, retryDelayMs: 100 },
  );
  assert.deepEqual(failures, []);
  assert.ok(
    events.events.some((e) => e.kind === 'task' && e.status === 'ok' && e.task === '2 health checks passed'),
  );
});

void test('a failing check names itself and shows its output, redacted', async () => {
  const events = collectingSink();
  const failures = await runChecks(
    new Map([['h', [{ name: 'never', command: 'echo "bad password hunter2-secret" >&2; exit 3' }]]]),
    { transports, events, concurrency: 2, redact: ['hunter2-secret'], settleMs: 200, retryDelayMs: 50 },
  );
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.step, 'check: never');
  assert.match(failures[0]!.message, /health check failed: never\nbad password \*\*\*/);
  assert.ok(!JSON.stringify(events.events).includes('hunter2-secret'));
});
