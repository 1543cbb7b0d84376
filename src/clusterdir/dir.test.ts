import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../core/errors.ts';
import { isMissingOrEmpty, loadClusterConfig, requireClusterDir, writeClusterFile } from './dir.ts';

void test('a missing directory or config.yml is a UsageError with a hint', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'tpa-dir-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  await assert.rejects(requireClusterDir(join(base, 'nope')), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /does not exist/);
    assert.match(e.hint ?? '', /tpa configure/);
    return true;
  });
  await assert.rejects(requireClusterDir(base), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /no config\.yml/);
    return true;
  });
  await writeFile(join(base, 'file'), 'x');
  await assert.rejects(requireClusterDir(join(base, 'file')), UsageError);
});

void test('loadClusterConfig returns the typed config or throws every problem', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tpa-dir-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'config.yml'),
    'name: acme\nclusters:\n  - name: main\n    nodes:\n      - { name: main-1, role: primary }\n      - { name: main-2, role: replica }\n',
  );
  const loaded = await loadClusterConfig(dir);
  assert.equal(loaded.config.name, 'acme');
  assert.equal(loaded.config.clusters[0]?.nodes.length, 2);
  assert.equal(loaded.dir, dir);

  await writeFile(join(dir, 'config.yml'), 'name: Acme\nclusters: []\nbogus: 1\n');
  await assert.rejects(loadClusterConfig(dir), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(
      e.issues.map((i) => `${i.line} ${i.path}`),
      ['2 clusters', '3 bogus'],
    );
    return true;
  });
});

void test('writeClusterFile writes atomically with the mode asked for', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tpa-dir-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = await writeClusterFile(dir, 'sub/secret.bin', 'data', 0o600);
  assert.equal(await readFile(p, 'utf8'), 'data');
  assert.equal((await stat(p)).mode & 0o777, 0o600);
  await writeClusterFile(dir, 'sub/secret.bin', 'new', 0o600);
  assert.equal(await readFile(p, 'utf8'), 'new');
});

void test('isMissingOrEmpty', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tpa-dir-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(await isMissingOrEmpty(join(dir, 'none')), true);
  assert.equal(await isMissingOrEmpty(dir), true);
  await mkdir(join(dir, 'x'));
  assert.equal(await isMissingOrEmpty(dir), false);
  await writeFile(join(dir, 'f'), '');
  assert.equal(await isMissingOrEmpty(join(dir, 'f')), false);
});
