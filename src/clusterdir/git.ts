/**
 * The cluster directory is a git repository; its history is the deployment's history.
 * Every command that changes the directory commits through commitChanges, naming the
 * files it changed and saying what changed. git runs with argument arrays, never a shell.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationError } from '../core/errors.ts';

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** The identity used for commits when neither the repository nor the user has one. */
export const FALLBACK_IDENTITY = { name: 'tpa', email: 'tpa@localhost' };

// A parent git process (a hook, `git rebase --exec`) would otherwise redirect us to its repository.
const GIT_ENV_TO_DROP = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_PREFIX'];

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  for (const k of GIT_ENV_TO_DROP) delete env[k];
  return env;
}

/** Runs git in dir; resolves with the exit code instead of rejecting on a non-zero one. */
export function git(dir: string, args: string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', dir, ...args],
      { env: gitEnv(), maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(
            new OperationError(`cannot run git: ${err.message}`, {
              step: 'git',
              hint: 'install git (apt-get install git)',
            }),
          );
          return;
        }
        resolve({ stdout, stderr, code: err ? Number(err.code) : 0 });
      },
    );
  });
}

async function gitOk(dir: string, args: string[]): Promise<string> {
  const r = await git(dir, args);
  if (r.code !== 0) {
    throw new OperationError(`git ${args[0]} failed in ${dir}: ${r.stderr.trim() || r.stdout.trim()}`, {
      step: 'git',
    });
  }
  return r.stdout;
}

/** True when dir is the top of a git repository (not merely inside one). */
export async function isRepo(dir: string): Promise<boolean> {
  return stat(join(dir, '.git')).then(
    () => true,
    () => false,
  );
}

/** `git init` (branch main) unless dir is already the top of a repository. */
export async function initRepo(dir: string): Promise<void> {
  if (await isRepo(dir)) return;
  await gitOk(dir, ['init', '-q', '--initial-branch=main']);
}

/** Sets a local user.name/user.email only where git has none configured at all. */
export async function ensureIdentity(dir: string): Promise<void> {
  const r = await git(dir, ['config', '--get-regexp', '^user\\.(name|email)$']);
  const have = new Set(r.stdout.split('\n').map((l) => l.split(' ')[0]));
  if (!have.has('user.name')) await gitOk(dir, ['config', '--local', 'user.name', FALLBACK_IDENTITY.name]);
  if (!have.has('user.email')) await gitOk(dir, ['config', '--local', 'user.email', FALLBACK_IDENTITY.email]);
}

/**
 * Commits exactly `files` (paths relative to dir; deletions included) with `message`,
 * leaving anything else in the directory alone. Returns the new commit's hash, or
 * null when those files did not change.
 */
export async function commitChanges(dir: string, files: string[], message: string): Promise<string | null> {
  if (files.length === 0) return null;
  await ensureIdentity(dir);
  await gitOk(dir, ['add', '-A', '--', ...files]);
  const staged = await git(dir, ['diff', '--cached', '--quiet', '--', ...files]);
  if (staged.code === 0) return null;
  await gitOk(dir, ['commit', '-q', '-m', message, '--', ...files]);
  return (await gitOk(dir, ['rev-parse', 'HEAD'])).trim();
}

export interface CommitInfo {
  hash: string;
  date: string;
  subject: string;
}

/** Newest first. */
export async function history(dir: string, limit = 50): Promise<CommitInfo[]> {
  const r = await git(dir, ['log', `-n${limit}`, '--format=%H%x09%cI%x09%s']);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [hash = '', date = '', ...subject] = line.split('\t');
      return { hash, date, subject: subject.join('\t') };
    });
}

export interface CommitWithDiff extends CommitInfo {
  author: string;
  /** the commit's patch (`git show` without the header) */
  diff: string;
}

const RECORD = '\x1e';
const FIELD = '\x1f';

/** Newest first, each commit with its author and diff, in one git run. */
export async function historyWithDiffs(dir: string, limit = 30): Promise<CommitWithDiff[]> {
  const r = await git(dir, [
    'log',
    `-n${limit}`,
    '--no-color',
    '--patch',
    `--format=${RECORD}%H${FIELD}%an <%ae>${FIELD}%aI${FIELD}%s${FIELD}`,
  ]);
  if (r.code !== 0) return [];
  return r.stdout
    .split(RECORD)
    .filter(Boolean)
    .map((rec) => {
      const [hash = '', author = '', date = '', subject = '', diff = ''] = rec.split(FIELD);
      return { hash, author, date, subject, diff: diff.replace(/^\n+/, '') };
    });
}
