import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.ts';
import { validateClusterDir } from './index.ts';

void test('validateClusterDir reports errors and warnings and changes nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tpa-validate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const text =
    'name: acme\nclusters:\n  - name: main\n    nodes:\n      - { name: main-1, role: primary }\n      - { name: main-2, role: primary }\n';
  await writeFile(join(dir, 'config.yml'), text);
  const before = await stat(join(dir, 'config.yml'));
  const report = await validateClusterDir(dir);
  assert.equal(report.ok, false);
  assert.equal(report.file, join(dir, 'config.yml'));
  assert.deepEqual(
    report.errors.map((e) => `${e.file}:${e.line} ${e.path}`),
    ['config.yml:6 clusters.0.nodes.1.role'],
  );
  assert.deepEqual(
    report.warnings.map((w) => w.path),
    ['backup.mode'],
  );
  assert.equal(await readFile(join(dir, 'config.yml'), 'utf8'), text);
  assert.equal((await stat(join(dir, 'config.yml'))).mtimeMs, before.mtimeMs);
});

void test('validateClusterDir: a missing directory is a UsageError', async () => {
  await assert.rejects(validateClusterDir(join(tmpdir(), 'tpa-no-such-dir-3f9a')), UsageError);
});
