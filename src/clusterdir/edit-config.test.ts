import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { addService, setField } from './config-edits.ts';
import { editConfig } from './edit-config.ts';
import { git, initRepo } from './git.ts';

const CONFIG = `# acme
name: acme
platform: lxc
backup: { mode: none }
clusters:
  - name: main
    failover_manager: none
    nodes:
      - { name: main-1, role: primary }
`;

async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tpa-edit-'));
  await writeFile(join(d, 'config.yml'), CONFIG);
  await initRepo(d);
  await git(d, ['add', 'config.yml']);
  await git(d, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init']);
  return d;
}

const log = async (d: string) => (await git(d, ['log', '--format=%s'])).stdout.trim().split('\n');

void test('a valid edit is written and committed, comments kept; the same edit again changes nothing', async () => {
  const d = await dir();
  try {
    const r = await editConfig(
      d,
      (t) => setField(t, ['clusters', 0, 'durability'], 'sync'),
      'set durability',
    );
    assert.ok(r.commit);
    assert.equal(r.config.clusters[0]!.durability, 'sync');
    const text = await readFile(join(d, 'config.yml'), 'utf8');
    assert.match(text, /^# acme\n/);
    assert.deepEqual(await log(d), ['set durability', 'init']);
    const again = await editConfig(d, (t) => setField(t, ['clusters', 0, 'durability'], 'sync'), 'again');
    assert.equal(again.commit, null);
    assert.deepEqual(await log(d), ['set durability', 'init']);
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});

void test('an edit that makes config.yml invalid is refused naming line and field; the file and history stay', async () => {
  const d = await dir();
  try {
    // a barman service while backups are off is fine; a node named like the cluster's own is not
    const err = await editConfig(
      d,
      (t) => addService(t, { name: 'main-1', role: 'barman' }),
      'restore: new cluster',
    ).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exitCode, 2);
    assert.match(
      err.message,
      /^restore: new cluster: the change to config\.yml would not be valid, so nothing was changed/,
    );
    assert.ok(
      err.issues.some((i) => i.file === 'config.yml' && i.line !== undefined && /services/.test(i.path)),
    );
    assert.equal(await readFile(join(d, 'config.yml'), 'utf8'), CONFIG);
    assert.deepEqual(await log(d), ['init']);
    assert.equal((await git(d, ['status', '--porcelain'])).stdout, '');
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});
