/** Committing what an operation changed in the cluster directory (files it wrote or removed). */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { commitChanges, git } from './index.ts';
import { initRepo, isRepo } from './git.ts';

/** Commits those of `files` that exist or are tracked (a removed tracked file is a change too). */
export async function commitDirFiles(dir: string, files: string[], message: string): Promise<string | null> {
  if (!(await isRepo(dir))) await initRepo(dir);
  const present: string[] = [];
  for (const f of [...new Set(files)]) {
    const onDisk = await access(join(dir, f)).then(
      () => true,
      () => false,
    );
    const tracked = !onDisk && (await git(dir, ['ls-files', '--error-unmatch', '--', f])).code === 0;
    if (onDisk || tracked) present.push(f);
  }
  return commitChanges(dir, present, message);
}
