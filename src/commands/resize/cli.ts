/** tpa resize DIR NODE: another machine size, PostgreSQL re-tuned for it, restarts rolled safely. */
import type { Command } from 'commander';
import { resize } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import { wholeNumber } from '../../cli/options.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('resize')
    .description(
      "change a machine's size: the platform resizes it, PostgreSQL is re-tuned, restarts rolled safely",
    )
    .argument('<dir>', 'cluster directory')
    .argument('<node>', 'the node or service to resize')
    .option(
      '--instance-type <type>',
      'its new machine size (lxc/bare: small, medium, large; aws: an EC2 type)',
    )
    .option(
      '--volume-gb <n>',
      'its new data volume size in GB (volumes only grow)',
      wholeNumber('--volume-gb', 1, 65536),
    )
    .option('--no-switchover', 'restart a primary in place instead of switching over to a standby first')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Checked first, nothing changed on a refusal (exit 2): the machine exists, the platform has the
instance type, the volume does not shrink, a postgres node runs. Then config.yml records the
size (committed: "resize: main-2 small, 20 GB -> medium, 20 GB"), provision resizes the machine
(lxc: memory and CPU limits, applied live; lxc has no volume of its own, volume_gb is recorded
for pricing), and deploy re-tunes the settings that follow the size (shared_buffers,
effective_cache_size, work_mem, ...), restarting replicas first. A primary that must restart
is switched over to a standby first, then restarted as a standby.

Examples:
  $ tpa resize acme main-2 --instance-type medium
  $ tpa resize acme main-1 --instance-type large --no-switchover
`,
    )
    .action(
      async (
        dir: string,
        node: string,
        opts: { instanceType?: string; volumeGb?: number; switchover: boolean; json?: boolean },
      ) => {
        const json = opts.json === true;
        try {
          const out = await resize({
            dir,
            node,
            events: eventSink(json),
            ...(opts.instanceType !== undefined ? { instanceType: opts.instanceType } : {}),
            ...(opts.volumeGb !== undefined ? { volumeGb: opts.volumeGb } : {}),
            ...(opts.switchover === false ? { noSwitchover: true } : {}),
          });
          if (json) printJson({ ok: true, ...out });
          else {
            const size = `${out.to.instanceType}, ${out.to.volumeGb} GB`;
            const what = [
              out.machine.length
                ? `machine: ${out.machine.map((m) => m.replace(/^[^:]+: /, '')).join(', ')}`
                : 'machine: no change',
              `${out.settings.length} setting change${out.settings.length === 1 ? '' : 's'}${out.restarted ? ' (restarted)' : ''}`,
              ...(out.switchover
                ? [
                    `the primary moved ${out.switchover.from} -> ${out.switchover.to} first (clients stalled ${(out.switchover.stallMs / 1000).toFixed(1)} s)`,
                  ]
                : []),
            ];
            process.stderr.write(
              c.green(
                `${out.node} is ${size} in ${(out.durationMs / 1000).toFixed(1)} s; ${what.join('; ')}${out.commit ? `; config.yml: commit ${out.commit.slice(0, 7)}` : '; config.yml said so already'}\n`,
              ),
            );
          }
        } catch (err) {
          setExit(reportError(err, json));
        }
      },
    );
};
