/** tpa add-cluster DIR NAME: a new cluster in a running group. */
import { Option, type Command } from 'commander';
import { addClusterOperation } from './index.ts';
import type { AddClusterInput } from './plan.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import { wholeNumber } from '../../cli/options.ts';
import { BACKUP_MODES, DURABILITIES, FAILOVER_MANAGERS, POOLERS } from '../../model/schema.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('add-cluster')
    .description('add a cluster to a group: config.yml, its machines, a deploy')
    .argument('<dir>', 'cluster directory')
    .argument('<name>', 'the new cluster; its nodes are NAME-1..N')
    .option('--replicas <n>', 'replicas besides the primary (default 1)', wholeNumber('--replicas', 0, 20))
    .addOption(new Option('--durability <mode>', 'async, or sync (quorum)').choices(DURABILITIES))
    .addOption(
      new Option('--failover-manager <name>', 'default: repmgr, none without replicas').choices(
        FAILOVER_MANAGERS,
      ),
    )
    .addOption(new Option('--pooler <name>', 'connection pooler').choices(POOLERS))
    .addOption(
      new Option(
        '--backup <mode>',
        "default: shared (the group's backup server) when there is one, else none",
      ).choices(BACKUP_MODES),
    )
    .option('--instance-type <type>', 'machine size of its nodes (default: the group default)')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Refused (exit 2, nothing changed) when the name or one of its node names is taken, or when
--backup shared finds no backup server. Then config.yml gets the cluster (a commit:
"add-cluster: NAME ..."), provision makes its machines and deploy builds it.

Example:
  $ tpa add-cluster acme reports --replicas 1 --durability sync
`,
    )
    .action(async (dir: string, name: string, opts: Omit<AddClusterInput, 'name'> & { json?: boolean }) => {
      const json = opts.json === true;
      try {
        const { json: _json, ...options } = opts;
        const out = await addClusterOperation({ dir, name, events: eventSink(json), ...options });
        if (json) printJson({ ok: true, ...out });
        else
          process.stderr.write(
            c.green(
              `cluster ${out.cluster} (${out.nodes.join(', ')}) runs, in ${(out.durationMs / 1000).toFixed(1)} s${out.commit ? `; config.yml: commit ${out.commit.slice(0, 7)}` : ''}\n`,
            ),
          );
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
