import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../core/errors.ts';
import { collectingSink } from '../../core/events.ts';
import { demo } from './index.ts';

void test('demo refuses a directory that holds something other than a cluster, touching nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tpa-demo-'));
  try {
    await writeFile(join(dir, 'notes.txt'), 'mine\n');
    const events = collectingSink();
    await assert.rejects(demo({ dir, events }), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /holds no config\.yml/);
      return true;
    });
    assert.deepEqual(await readdir(dir), ['notes.txt']);
    assert.deepEqual(events.events, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
