import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteCommandError } from '../core/errors.ts';
import { LocalTransport } from './local.ts';
import { TransportPool, valuesOrThrow } from './pool.ts';
import type { Transport } from './transport.ts';

function countingFactory() {
  const made: string[] = [];
  const closed: string[] = [];
  const factory = (host: string): Transport => {
    made.push(host);
    const t = new LocalTransport({ host });
    return {
      host,
      exec: (c, o) => t.exec(c, o),
      upload: (p, c, o) => t.upload(p, c, o),
      close: () => {
        closed.push(host);
        return t.close();
      },
    };
  };
  return { factory, made, closed };
}

const hosts = Array.from({ length: 12 }, (_, i) => `node-${i + 1}`);

void test('forHost caches one transport per host; closeAll closes each once', async () => {
  const { factory, made, closed } = countingFactory();
  const pool = new TransportPool(factory);
  assert.equal(pool.forHost('a'), pool.forHost('a'));
  assert.notEqual(pool.forHost('a'), pool.forHost('b'));
  assert.deepEqual(made, ['a', 'b']);
  await pool.closeAll();
  assert.deepEqual(closed.sort(), ['a', 'b']);
  pool.forHost('a');
  assert.deepEqual(made, ['a', 'b', 'a'], 'a closed pool starts afresh');
});

void test('all() never runs more hosts at once than the bound, measured on real processes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tpa-pool-'));
  try {
    const pool = new TransportPool(countingFactory().factory, { concurrency: 3 });
    // each host logs start and end with a timestamp from the shell; overlap is computed afterwards
    const log = join(dir, 'log');
    const out = await pool.all(hosts, async (t, host) => {
      await t.exec(`echo "$(date +%s%N) +1" >> ${log}; sleep 0.2; echo "$(date +%s%N) -1" >> ${log}`);
      return host.toUpperCase();
    });
    assert.deepEqual(
      valuesOrThrow(out),
      hosts.map((h) => h.toUpperCase()),
    );
    const events = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .sort((a, b) => (BigInt(a[0]!) < BigInt(b[0]!) ? -1 : 1));
    let now = 0;
    let peak = 0;
    for (const [, delta] of events) peak = Math.max(peak, (now += Number(delta)));
    assert.equal(peak, 3, 'the bound is reached and never exceeded');
    await pool.closeAll();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("all() reports every host's outcome instead of stopping at the first failure", async () => {
  const pool = new TransportPool(countingFactory().factory);
  const out = await pool.all(['a', 'b', 'c'], (t, h) => t.exec(h === 'b' ? 'exit 4' : `echo ${h}`));
  assert.deepEqual(
    out.map((o) => [o.host, o.ok]),
    [
      ['a', true],
      ['b', false],
      ['c', true],
    ],
  );
  const b = out[1]!;
  assert.ok(!b.ok && b.error instanceof RemoteCommandError && b.error.details.host === 'b');
  assert.throws(() => valuesOrThrow(out), RemoteCommandError);
});

void test('failFast starts no further host after a failure', async () => {
  const pool = new TransportPool(countingFactory().factory);
  const started: string[] = [];
  const out = await pool.all(
    hosts,
    async (t, h) => {
      started.push(h);
      await t.exec(h === 'node-2' ? 'exit 1' : 'true');
    },
    { concurrency: 2, failFast: true },
  );
  assert.ok(started.length < hosts.length, `started ${started.length}`);
  const skipped = out.filter((o) => !o.ok && o.skipped);
  assert.equal(skipped.length, hosts.length - started.length);
  assert.throws(() => valuesOrThrow(out), RemoteCommandError, 'the real failure is thrown, not a skip');
});

void test('a bad concurrency is refused', () => {
  assert.throws(() => new TransportPool(countingFactory().factory, { concurrency: 0 }), RangeError);
});
