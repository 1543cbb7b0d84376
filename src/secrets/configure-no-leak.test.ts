/**
 * Proof that `tpa configure` leaks no secret: not into any file of the cluster directory
 * (git objects included), not onto its stdout/stderr, not into the arguments of any process it
 * starts (git above all, since commit messages are arguments). The real CLI runs as a child
 * process; every git it starts goes through a logging wrapper first in PATH, and, where strace
 * is installed, every execve of the whole process tree is recorded as well.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAllSecrets, GENERATED_PASSWORDS } from './vault.ts';

const repo = resolve(import.meta.dirname, '../..');
const tpa = join(repo, 'bin', 'tpa');

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let root: string;
let dir: string;
let env: NodeJS.ProcessEnv;
let gitLog: string;
let configureRun: Run;
let straceLog: string | null = null;
let secrets: Record<string, string>;

/** Strings that must appear nowhere: every secret value, and the private key piece by piece. */
function needles(values: Record<string, string>): { label: string; text: string }[] {
  const out: { label: string; text: string }[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (name === 'ssh_public_key') continue; // public by design (ssh/id_ed25519.pub)
    out.push({ label: name, text: value.trim() });
    if (!value.includes('\n'))
      out.push({ label: `${name} (base64)`, text: Buffer.from(value).toString('base64') });
  }
  const key = values.ssh_private_key;
  if (key) {
    const body = key.split('\n').filter((l) => l && !l.startsWith('-----'));
    out.push({ label: 'ssh_private_key (joined body)', text: body.join('') });
    // the first line is the same for every unencrypted ed25519 key: it is no secret
    body.slice(1).forEach((line, i) => {
      if (line.length >= 16) out.push({ label: `ssh_private_key line ${i + 2}`, text: line });
    });
  }
  return out;
}

function findLeaks(where: string, text: string): string[] {
  return needles(secrets)
    .filter((n) => text.includes(n.text))
    .map((n) => `${n.label} in ${where}`);
}

async function filesUnder(path: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function gitOut(args: string[]): string {
  // run directly, not through the wrapper: these reads are the test's, not configure's
  return execFileSync('git', ['-C', dir, ...args], { encoding: 'latin1', maxBuffer: 256 * 1024 * 1024 });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tpa-noleak-'));
  dir = join(root, 'acme');
  gitLog = join(root, 'git-argv.log');
  const bin = join(root, 'bin');
  await mkdir(bin);
  const realGit = which('git');
  assert.ok(realGit, 'git is needed');
  // records every argument of every git call (NUL-separated, one record per call), then runs git
  await writeFile(
    join(bin, 'git'),
    `#!/bin/sh\n{ printf 'CALL\\0'; printf '%s\\0' "$@"; } >> '${gitLog}'\nexec '${realGit}' "$@"\n`,
  );
  await chmod(join(bin, 'git'), 0o755);
  await writeFile(gitLog, '');
  env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    HOME: join(root, 'home'),
    TPA_KEY_FILE: join(root, 'keys', 'secret.key'),
    TPA_CACHE_DIR: join(root, 'cache'),
    NO_COLOR: '1',
  };
  delete env.TPA_SECRET_KEY;
  delete env.XDG_CONFIG_HOME;
  await mkdir(env.HOME!);

  const strace = which('strace');
  let cmd = tpa;
  let args = ['configure', dir];
  if (strace) {
    straceLog = join(root, 'execve.log');
    args = ['-f', '-qq', '-s', '100000', '-e', 'trace=execve', '-o', straceLog, tpa, ...args];
    cmd = strace;
  }
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  configureRun = { code: r.status, stdout: r.stdout, stderr: r.stderr };
  assert.equal(configureRun.code, 0, `tpa configure failed:\n${configureRun.stderr}`);

  // the same key the command used
  process.env.TPA_KEY_FILE = env.TPA_KEY_FILE;
  process.env.TPA_CACHE_DIR = env.TPA_CACHE_DIR;
  delete process.env.TPA_SECRET_KEY;
  secrets = await loadAllSecrets(dir);
});

after(() => rm(root, { recursive: true, force: true }));

void test('configure generated the passwords and, with no --ssh-key, a key pair', () => {
  for (const name of GENERATED_PASSWORDS) assert.match(secrets[name] ?? '', /^[A-Za-z0-9]{32}$/, name);
  assert.match(secrets.ssh_private_key ?? '', /BEGIN OPENSSH PRIVATE KEY/);
  assert.ok(needles(secrets).length >= 12);
});

void test('the scanner finds a secret where there is one (control)', () => {
  const r = spawnSync(tpa, ['secrets', dir, 'postgres_password'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(findLeaks('control', r.stdout), ['postgres_password in control']);
  const k = spawnSync(tpa, ['secrets', dir, 'ssh_private_key'], { env, encoding: 'utf8' });
  const leaks = findLeaks('control', k.stdout);
  assert.ok(leaks.includes('ssh_private_key in control'));
  assert.ok(leaks.includes('ssh_private_key line 4 in control'));
});

void test("configure's stdout and stderr hold no secret", () => {
  assert.deepEqual(findLeaks('stdout', configureRun.stdout), []);
  assert.deepEqual(findLeaks('stderr', configureRun.stderr), []);
});

void test('no file of the cluster directory holds a secret in plain, .git included', async () => {
  const files = await filesUnder(dir);
  assert.ok(
    files.some((f) => f.includes(`${join('.git', 'objects')}`)),
    'git objects exist',
  );
  const leaks: string[] = [];
  for (const f of files) leaks.push(...findLeaks(f, await readFile(f, 'latin1')));
  assert.deepEqual(leaks, []);
  assert.equal((await stat(join(dir, 'secrets.enc.json'))).mode & 0o777, 0o600);
});

void test('no git object and no commit of the history holds a secret', () => {
  // objects are compressed on disk: read them back uncompressed through git itself
  const objects = gitOut(['cat-file', '--batch-all-objects', '--batch']);
  assert.ok(objects.includes('secrets.enc.json'), 'the tree lists the encrypted store');
  assert.deepEqual(findLeaks('git objects', objects), []);
  const history = gitOut(['log', '-p', '--all', '--format=fuller']);
  assert.match(history, /\+\+\+ b\/secrets\.enc\.json/);
  assert.deepEqual(findLeaks('git log -p', history), []);
  const tracked = gitOut(['ls-files']).split('\n');
  assert.ok(tracked.includes('secrets.enc.json'));
  assert.equal(gitOut(['status', '--porcelain']), '', 'everything configure wrote is committed');
});

void test('no git invocation carried a secret in its arguments (commit messages included)', async () => {
  const calls = (await readFile(gitLog, 'utf8')).split('CALL\0').filter(Boolean);
  assert.ok(
    calls.some((c) => c.split('\0').includes('commit')),
    'configure ran git commit',
  );
  assert.deepEqual(findLeaks('git arguments', calls.join('\n')), []);
});

void test('no process started anywhere in the tree carried a secret in its arguments (strace)', async (t) => {
  if (!straceLog) {
    t.skip('strace is not installed');
    return;
  }
  const log = await readFile(straceLog, 'utf8');
  const execs = log.split('\n').filter((l) => l.includes('execve('));
  assert.ok(
    execs.some((l) => l.includes('"commit"')),
    'strace saw git commit',
  );
  assert.deepEqual(findLeaks('execve arguments', log), []);
});
