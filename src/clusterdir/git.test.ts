import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitChanges, git, history, initRepo } from './git.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tpa-git-'));
}

void test('commitChanges commits only the named files, with the message given', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await initRepo(dir);
  await writeFile(join(dir, 'config.yml'), 'name: a\n');
  await writeFile(join(dir, 'scratch.txt'), 'not mine\n');
  const hash = await commitChanges(dir, ['config.yml'], 'configure: new group a');
  assert.match(hash ?? '', /^[0-9a-f]{40}$/);
  const tracked = (await git(dir, ['ls-files'])).stdout.trim().split('\n');
  assert.deepEqual(tracked, ['config.yml']);
  const [last] = await history(dir);
  assert.equal(last?.subject, 'configure: new group a');
  assert.equal(last?.hash, hash);
  const status = (await git(dir, ['status', '--porcelain'])).stdout;
  assert.match(status, /\?\? scratch\.txt/);
});

void test('commitChanges returns null when the files did not change, and records deletions', async (t) => {
  const dir = await tempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  await initRepo(dir);
  await writeFile(join(dir, 'a.json'), '{}\n');
  assert.notEqual(await commitChanges(dir, ['a.json'], 'add a'), null);
  assert.equal(await commitChanges(dir, ['a.json'], 'nothing'), null);
  await unlink(join(dir, 'a.json'));
  assert.notEqual(await commitChanges(dir, ['a.json'], 'remove a'), null);
  assert.equal((await git(dir, ['ls-files'])).stdout, '');
  assert.deepEqual(
    (await history(dir)).map((c) => c.subject),
    ['remove a', 'add a'],
  );
});

void test('a local identity is set only when git has none', async (t) => {
  const dir = await tempDir();
  const home = await tempDir();
  const saved = {
    HOME: process.env.HOME,
    GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL,
    GIT_CONFIG_NOSYSTEM: process.env.GIT_CONFIG_NOSYSTEM,
  };
  t.after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  });
  process.env.HOME = home;
  process.env.GIT_CONFIG_GLOBAL = join(home, 'gitconfig');
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  await initRepo(dir);
  await writeFile(join(dir, 'config.yml'), 'x\n');
  assert.notEqual(await commitChanges(dir, ['config.yml'], 'first'), null);
  assert.equal((await git(dir, ['config', '--local', 'user.name'])).stdout.trim(), 'tpa');
  assert.equal((await git(dir, ['log', '-1', '--format=%ae'])).stdout.trim(), 'tpa@localhost');

  // with an identity configured globally, the repository gets none of its own
  const dir2 = await tempDir();
  t.after(() => rm(dir2, { recursive: true, force: true }));
  await writeFile(process.env.GIT_CONFIG_GLOBAL, '[user]\n\tname = Someone\n\temail = someone@example.org\n');
  await initRepo(dir2);
  await writeFile(join(dir2, 'f'), 'x\n');
  await commitChanges(dir2, ['f'], 'first');
  assert.equal((await git(dir2, ['config', '--local', 'user.name'])).code, 1);
  assert.equal((await git(dir2, ['log', '-1', '--format=%an'])).stdout.trim(), 'Someone');
});

void test('initRepo leaves an existing repository alone and does not adopt a parent one', async (t) => {
  const parent = await tempDir();
  t.after(() => rm(parent, { recursive: true, force: true }));
  await initRepo(parent);
  await writeFile(join(parent, 'p'), 'x\n');
  await commitChanges(parent, ['p'], 'parent commit');
  const child = join(parent, 'child');
  await (await import('node:fs/promises')).mkdir(child);
  await initRepo(child);
  assert.deepEqual(await history(child), []);
  await writeFile(join(child, 'c'), 'x\n');
  await commitChanges(child, ['c'], 'child commit');
  await initRepo(child);
  assert.deepEqual(
    (await history(child)).map((c) => c.subject),
    ['child commit'],
  );
});
