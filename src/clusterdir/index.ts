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
export { commitChanges, initRepo, ensureIdentity, history, git, type CommitInfo } from './git.ts';
