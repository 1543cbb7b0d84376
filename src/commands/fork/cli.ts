/** tpa fork DIR NODE --into NEW: a replica detached into a new standalone cluster of the group. */
import type { Command } from 'commander';
import { fork } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('fork')
    .description('detach a replica into a new cluster of the group, promoted on its own timeline')
    .argument('<dir>', 'cluster directory')
    .argument('<node>', 'the replica to detach')
    .requiredOption('--into <cluster>', 'the name of the new cluster')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Checked first, nothing changed on a refusal (exit 2): the node is a streaming replica, not the
primary, not the last standby of a sync cluster, the primary keeps enough standbys not to fence
itself, the new name is free. Then nodes streaming from it follow its upstream, config.yml
moves it into the new cluster (committed: "fork: main-3 of cluster main into the new cluster
reports"), the cluster it leaves stops counting it (poolers, fences, pg_hba, synchronous
standbys), it replays everything the primary had written when the fork began and is promoted
on a new timeline, and deploy gives the new cluster its failover manager, pooler and backups
(the group's shared backup server, or a new one when backups are exclusive).

Example:
  $ tpa fork acme main-3 --into reports
`,
    )
    .action(async (dir: string, node: string, opts: { into: string; json?: boolean }) => {
      const json = opts.json === true;
      try {
        const out = await fork({ dir, node, into: opts.into, events: eventSink(json) });
        if (json) printJson({ ok: true, ...out });
        else
          process.stderr.write(
            c.green(
              `${out.node} is the primary of the new cluster ${out.into} (timeline ${out.timeline}, forked at ${out.forkLsn}) in ${(out.durationMs / 1000).toFixed(1)} s; cluster ${out.from} goes on without it${out.backupServer ? `; backups on ${out.backupServer}` : ''}${out.commit ? `; config.yml: commit ${out.commit.slice(0, 7)}` : ''}\n`,
            ),
          );
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
