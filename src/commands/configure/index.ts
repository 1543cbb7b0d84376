/**
 * `tpa configure DIR`: a new cluster directory holding a commented, valid config.yml and
 * the group's encrypted secrets, as the first commit of its git history.
 * The options are checked by the same parser as `tpa validate` before anything is written.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ConfigError, UsageError, type ConfigIssue } from '../../core/errors.ts';
import {
  CONFIG_FILE,
  commitChanges,
  initRepo,
  isMissingOrEmpty,
  writeClusterFile,
} from '../../clusterdir/index.ts';
import { parseConfig } from '../../model/parse.ts';
import { DEFAULT_FAILOVER_MANAGER, DEFAULT_POOLER } from '../../model/schema.ts';
import {
  buildNewConfig,
  newHostNames,
  renderConfigYaml,
  type NewConfigOptions,
} from '../../model/new-config.ts';
import { parseSshPublicKey } from '../../model/ssh-key.ts';
import { suggestLabel } from '../../model/hostname.ts';
import { generateClusterSecrets } from '../../secrets/vault.ts';
import { SCHEMA_PATH } from '../../core/files.ts';

export type ConfigureRequest = Omit<NewConfigOptions, 'groupName' | 'sshKeys'> & {
  dir: string;
  /** default: the directory's name */
  groupName?: string;
  /** files holding OpenSSH public keys (one or more lines each) */
  sshKeyFiles: string[];
};

/**
 * What `tpa configure DIR` does with no options (the CLI's option defaults say the same): one
 * M1 cluster `main` of a primary and two replicas on lxc, repmgr, pgbouncer, async, backups on
 * a shared barman server, clients from anywhere, a generated SSH key. The demo, the console's
 * wizard and the tests start from it.
 */
export function defaultConfigureRequest(dir: string): ConfigureRequest {
  return {
    dir,
    clusterName: 'main',
    architecture: 'M1',
    platform: 'lxc',
    replicas: 2,
    failoverManager: DEFAULT_FAILOVER_MANAGER,
    pooler: DEFAULT_POOLER,
    durability: 'async',
    backup: 'shared',
    clientCidrs: [],
    sshKeyFiles: [],
    addresses: [],
  };
}

export interface ConfigureResult {
  dir: string;
  group: string;
  hosts: string[];
  /** files committed, relative to dir */
  files: string[];
  commit: string | null;
  warnings: ConfigIssue[];
  /** true when tpa made an SSH key pair (no --ssh-key was given) */
  generatedSshKey: boolean;
}

/** The option that set each part of the config, so that a bad value is reported as that option. */
const OPTION_OF: [RegExp, string][] = [
  [/^name$/, '--group-name'],
  [/^postgres\.version$/, '--postgres-version'],
  [/^postgres\.package_version$/, '--postgres-package-version'],
  [/^defaults\.instance_type$/, '--instance-type'],
  [/^defaults\.volume_gb$/, '--volume-gb'],
  [/^access\.client_cidrs/, '--client-cidr'],
  [/^access\.ssh_authorized_keys/, '--ssh-key'],
  [/^backup\.schedule$/, '--backup-schedule'],
  [/^backup\.retention$/, '--retention'],
  [/^backup\.mode$/, '--backup'],
  [/^clusters\.\d+\.name$/, '--cluster-name'],
  [/^clusters\.\d+\.failover_manager$/, '--failover-manager'],
  [/^clusters\.\d+\.durability$/, '--durability'],
  [/^clusters\.\d+\.nodes\.\d+\.name$/, '--cluster-name'],
  [/\.address$/, '--address'],
];

function asOptionIssue(issue: ConfigIssue): ConfigIssue {
  const option = OPTION_OF.find(([re]) => re.test(issue.path))?.[1];
  return {
    file: option ?? 'tpa configure',
    path: issue.path,
    message: issue.message,
    ...(issue.hint ? { hint: issue.hint } : {}),
  };
}

async function readSshKeys(files: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(
        `--ssh-key ${file}: cannot read it (${e.code ?? e.message})`,
        'give the path of a public key file, e.g. ~/.ssh/id_ed25519.pub',
      );
    });
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    if (lines.length === 0) throw new UsageError(`--ssh-key ${file}: the file holds no key`);
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      throw new UsageError(
        `--ssh-key ${file}: this is a private key`,
        `give the public key (${file}.pub); never hand out the private key`,
      );
    }
    for (const line of lines) {
      const r = parseSshPublicKey(line);
      if (!r.ok) throw new UsageError(`--ssh-key ${file}: SSH public key ${r.problem}`, r.hint);
      keys.push(line.split(/\s+/).slice(0, 3).join(' '));
    }
  }
  return keys;
}

/** What configure would write, checked; throws UsageError/ConfigError for bad options. Writes nothing. */
export async function prepareConfig(
  req: ConfigureRequest,
): Promise<{ text: string; warnings: ConfigIssue[]; hosts: string[]; options: NewConfigOptions }> {
  if (!Number.isInteger(req.replicas) || req.replicas < 0) {
    throw new UsageError(`--replicas must be a whole number from 0, not ${req.replicas}`);
  }
  const hosts = newHostNames(req);
  if (req.platform === 'bare') {
    if (req.addresses.length !== hosts.length) {
      throw new UsageError(
        `platform bare needs one --address per host, in this order: ${hosts.join(', ')} (${hosts.length}); got ${req.addresses.length}`,
        `e.g. ${hosts.map((_, i) => `--address 192.0.2.${i + 11}`).join(' ')}`,
      );
    }
  } else if (req.addresses.length > 0) {
    throw new UsageError(
      `--address is for --platform bare only; ${req.platform} assigns the addresses itself`,
    );
  }
  const options: NewConfigOptions = {
    ...req,
    groupName: req.groupName ?? basename(resolve(req.dir)),
    sshKeys: await readSshKeys(req.sshKeyFiles),
  };
  const text = renderConfigYaml(buildNewConfig(options), SCHEMA_PATH);
  const { errors, warnings } = parseConfig(text, CONFIG_FILE);
  if (errors.length > 0) {
    const issues = errors.map(asOptionIssue);
    if (req.groupName === undefined && errors.some((e) => e.path === 'name')) {
      issues.push({
        file: '--group-name',
        path: 'name',
        message: `the default group name comes from the directory name`,
        hint: `pass --group-name ${suggestLabel(options.groupName)}`,
      });
    }
    throw new ConfigError(issues, `the options do not make a valid configuration`);
  }
  return { text, warnings, hosts, options };
}

export async function configure(req: ConfigureRequest): Promise<ConfigureResult> {
  const dir = resolve(req.dir);
  if (!(await isMissingOrEmpty(dir))) {
    throw new UsageError(
      `${req.dir} already exists and is not empty`,
      'configure makes a new cluster directory; give a new path, or edit the existing config.yml',
    );
  }
  const { text, warnings, hosts, options } = await prepareConfig(req);

  const existed = (await readdir(dir).catch(() => null)) !== null;
  try {
    await mkdir(dir, { recursive: true });
    await writeClusterFile(dir, CONFIG_FILE, text);
    await initRepo(dir);
    const generateSshKey = options.sshKeys.length === 0;
    const secrets = await generateClusterSecrets(dir, { generateSshKey });
    const files = [CONFIG_FILE, ...secrets.files];
    const commit = await commitChanges(dir, files, commitMessage(options, hosts));
    return { dir, group: options.groupName, hosts, files, commit, warnings, generatedSshKey: generateSshKey };
  } catch (e) {
    // leave no half-made directory behind: a second attempt would be refused as "not empty"
    if (existed) {
      for (const entry of await readdir(dir).catch(() => []))
        await rm(resolve(dir, entry), { recursive: true, force: true });
    } else {
      await rm(dir, { recursive: true, force: true });
    }
    throw e;
  }
}

function commitMessage(o: NewConfigOptions, hosts: string[]): string {
  const replicas = `${o.replicas} replica${o.replicas === 1 ? '' : 's'}`;
  const backup = o.backup === 'none' ? 'no backups' : `${o.backup} backups on backup-1`;
  return [
    `configure: group ${o.groupName} on ${o.platform}`,
    '',
    `cluster ${o.clusterName}: ${o.architecture}, primary + ${replicas}, ${o.failoverManager}, ${o.durability}, pooler ${o.pooler}`,
    `${backup}; hosts: ${hosts.join(', ')}`,
  ].join('\n');
}
