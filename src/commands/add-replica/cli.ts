/** tpa add-replica DIR: a new replica in a running cluster, cloned, registered and streaming. */
import type { Command } from 'commander';
import { addReplica } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('add-replica')
    .description('add a replica to a running cluster: config.yml, its machine, the clone, the pooler')
    .argument('<dir>', 'cluster directory')
    .option('--cluster <name>', 'the cluster (needed when the group has several)')
    .option('--name <node>', 'the new node (default: the next free CLUSTER-N)')
    .option('--upstream <node>', 'a replica of the cluster to cascade from (default: the primary)')
    .option('--instance-type <type>', 'its machine size (default: the group default)')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Checked first, nothing changed on a refusal (exit 2): the cluster exists, the name is free,
the upstream is a streaming node of the same cluster, every node of the cluster runs. Then
config.yml gets the node (committed: "add-replica: main-4 in cluster main"), provision makes
its machine and deploy clones it, registers it with the failover manager and points its
pgbouncer at the primary; the other nodes only reload (pg_hba, synchronous standbys).

Examples:
  $ tpa add-replica acme
  $ tpa add-replica acme --cluster main --name main-4 --upstream main-2 --instance-type medium
`,
    )
    .action(
      async (
        dir: string,
        opts: { cluster?: string; name?: string; upstream?: string; instanceType?: string; json?: boolean },
      ) => {
        const json = opts.json === true;
        try {
          const out = await addReplica({
            dir,
            events: eventSink(json),
            ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
            ...(opts.name !== undefined ? { name: opts.name } : {}),
            ...(opts.upstream !== undefined ? { upstream: opts.upstream } : {}),
            ...(opts.instanceType !== undefined ? { instanceType: opts.instanceType } : {}),
          });
          if (json) printJson({ ok: true, ...out });
          else
            process.stderr.write(
              c.green(
                `${out.node} streams from ${out.upstream ?? 'the primary'} in cluster ${out.cluster}, in ${(out.durationMs / 1000).toFixed(1)} s (provision ${(out.provisionMs / 1000).toFixed(1)} s, deploy ${(out.deployMs / 1000).toFixed(1)} s)${out.commit ? `; config.yml: commit ${out.commit.slice(0, 7)}` : ''}\n`,
              ),
            );
        } catch (err) {
          setExit(reportError(err, json));
        }
      },
    );
};
