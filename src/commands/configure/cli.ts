/** tpa configure DIR: a new cluster directory with a commented config.yml, secrets and a git history. */
import { Command, Option } from 'commander';
import { formatIssue } from '../../core/errors.ts';
import { configure } from './index.ts';
import {
  ARCHITECTURES,
  BACKUP_MODES,
  DURABILITIES,
  DEFAULT_FAILOVER_MANAGER,
  DEFAULT_POOLER,
  FAILOVER_MANAGERS,
  PLATFORMS,
  POOLERS,
} from '../../model/schema.ts';
import { c, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';
import { wholeNumber } from '../../cli/options.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

interface Opts {
  architecture: (typeof ARCHITECTURES)[number];
  platform: (typeof PLATFORMS)[number];
  replicas: number;
  failoverManager: (typeof FAILOVER_MANAGERS)[number];
  pooler: (typeof POOLERS)[number];
  backup: (typeof BACKUP_MODES)[number];
  backupSchedule?: string;
  retention?: string;
  clientCidr: string[];
  sshKey: string[];
  instanceType?: string;
  volumeGb?: number;
  postgresVersion?: number;
  postgresPackageVersion?: string;
  durability: (typeof DURABILITIES)[number];
  clusterName: string;
  groupName?: string;
  address: string[];
  json?: boolean;
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('configure')
    .description('describe a new cluster group: write DIR/config.yml and start its git history')
    .argument('<dir>', 'the new cluster directory (must not exist, or be empty)')
    .addOption(
      new Option('--architecture <name>', 'cluster architecture').choices(ARCHITECTURES).default('M1'),
    )
    .addOption(
      new Option('--platform <name>', 'where the machines come from').choices(PLATFORMS).default('lxc'),
    )
    .option(
      '--replicas <n>',
      'replicas besides the primary (0 means no HA)',
      wholeNumber('--replicas', 0, 20),
      2,
    )
    .addOption(
      new Option('--failover-manager <name>', 'what promotes a replica on failure')
        .choices(FAILOVER_MANAGERS)
        .default(DEFAULT_FAILOVER_MANAGER),
    )
    .addOption(new Option('--pooler <name>', 'connection pooler').choices(POOLERS).default(DEFAULT_POOLER))
    .addOption(
      new Option('--backup <mode>', 'barman backups: none, shared or exclusive server')
        .choices(BACKUP_MODES)
        .default('shared'),
    )
    .option('--backup-schedule <cron>', 'base backup schedule, 5-field cron (default "0 2 * * *")')
    .option('--retention <policy>', 'barman retention policy (default "RECOVERY WINDOW OF 7 DAYS")')
    .option(
      '--client-cidr <cidr>',
      'network allowed to connect to PostgreSQL (repeatable; default anywhere)',
      collect,
      [],
    )
    .option(
      '--ssh-key <file>',
      'public key file to authorise on every host (repeatable; default: generate a key pair)',
      collect,
      [],
    )
    .option('--instance-type <type>', 'machine size (lxc/bare: small, medium, large; aws: EC2 type)')
    .option('--volume-gb <n>', 'data volume size in GB (default 20)', wholeNumber('--volume-gb', 1, 65536))
    .option(
      '--postgres-version <n>',
      "PostgreSQL major version (default: the distribution's)",
      wholeNumber('--postgres-version', 1, 99),
    )
    .option(
      '--postgres-package-version <v>',
      'pin the PostgreSQL packages at this Debian version, e.g. 15.18-0+deb12u1 (default: the newest the mirror has)',
    )
    .addOption(
      new Option('--durability <mode>', 'async, or sync (quorum)').choices(DURABILITIES).default('async'),
    )
    .option('--cluster-name <name>', 'name of the cluster; nodes are NAME-1..N', 'main')
    .option('--group-name <name>', 'name of the cluster group (default: the directory name)')
    .option(
      '--address <addr>',
      'platform bare: address of each host, in order: nodes, then backup-1 (repeatable)',
      collect,
      [],
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
configure writes DIR/config.yml (commented, with a schema line for editors), creates the
group's passwords (and an SSH key pair when no --ssh-key is given) encrypted in the directory,
and makes DIR a git repository whose first commit holds them. It refuses a DIR that exists
and is not empty. Nothing is written when an option is invalid (exit code 2).

Examples:
  $ tpa configure acme                                   # lxc, primary + 2 replicas, shared barman
  $ tpa configure acme --replicas 0 --backup none        # the smallest: one node, no backups
  $ tpa configure acme --platform aws --instance-type m6i.large --volume-gb 100 \\
        --client-cidr 203.0.113.10/32 --ssh-key ~/.ssh/id_ed25519.pub --durability sync
  $ tpa configure acme --platform bare --replicas 1 \\
        --address 192.0.2.11 --address 192.0.2.12 --address 192.0.2.13   # main-1, main-2, backup-1
`,
    )
    .action(async (dir: string, opts: Opts) => {
      const json = opts.json === true;
      try {
        const result = await configure({
          dir,
          architecture: opts.architecture,
          platform: opts.platform,
          replicas: opts.replicas,
          failoverManager: opts.failoverManager,
          pooler: opts.pooler,
          durability: opts.durability,
          backup: opts.backup,
          clientCidrs: opts.clientCidr,
          sshKeyFiles: opts.sshKey,
          addresses: opts.address,
          clusterName: opts.clusterName,
          ...(opts.backupSchedule !== undefined ? { backupSchedule: opts.backupSchedule } : {}),
          ...(opts.retention !== undefined ? { retention: opts.retention } : {}),
          ...(opts.instanceType !== undefined ? { instanceType: opts.instanceType } : {}),
          ...(opts.volumeGb !== undefined ? { volumeGb: opts.volumeGb } : {}),
          ...(opts.postgresVersion !== undefined ? { postgresVersion: opts.postgresVersion } : {}),
          ...(opts.postgresPackageVersion !== undefined
            ? { postgresPackageVersion: opts.postgresPackageVersion }
            : {}),
          ...(opts.groupName !== undefined ? { groupName: opts.groupName } : {}),
        });
        if (json) {
          printJson(result);
          return;
        }
        for (const w of result.warnings) {
          process.stderr.write(c.yellow(formatIssue({ ...w, message: `warning: ${w.message}` })) + '\n');
        }
        process.stdout.write(
          `wrote ${dir}/config.yml: group ${result.group}, hosts ${result.hosts.join(', ')}\n`,
        );
        if (result.generatedSshKey)
          process.stdout.write('generated an SSH key pair (public key in ssh/id_ed25519.pub)\n');
        process.stdout.write(
          `committed ${result.files.join(', ')}${result.commit ? ` as ${result.commit.slice(0, 12)}` : ''}\n`,
        );
        process.stdout.write(c.dim(`next: tpa validate ${dir}; tpa provision ${dir}; tpa deploy ${dir}\n`));
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
