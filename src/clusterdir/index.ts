/** The cluster directory: config.yml, generated files, and the git history of every change. */
export {
  CONFIG_FILE,
  requireClusterDir,
  readConfigText,
  loadClusterConfig,
  isMissingOrEmpty,
  writeClusterFile,
  type LoadedConfig,
} from './dir.ts';
export {
  commitChanges,
  initRepo,
  ensureIdentity,
  history,
  historyWithDiffs,
  git,
  type CommitInfo,
  type CommitWithDiff,
} from './git.ts';
