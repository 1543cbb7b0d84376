/** tpa fault DIR NODE ACTION [ARG]: inject a fault into a node, for drills. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { FAULT_ACTIONS, FAULT_DESCRIPTIONS, injectFault } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

const actionHelp = FAULT_ACTIONS.map((a) => {
  const usage = a === 'kill' ? 'kill PROCESS' : a === 'partition' ? 'partition OTHER' : a;
  return `  ${usage.padEnd(17)} ${FAULT_DESCRIPTIONS[a]}`;
}).join('\n');

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('fault')
    .description('inject a fault into a node (power off, kill, freeze, isolate, partition) or heal')
    .argument('<dir>', 'cluster directory (provisioned, platform lxc)')
    .argument('<node>', 'node name (for heal: any node, or leave it out)')
    .argument('[action]', `one of: ${FAULT_ACTIONS.join(', ')}`)
    .argument('[arg]', 'process name (kill) or other node (partition)')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Actions:
${actionHelp}

For drills and tests on the lxc platform: the faults are real (lxc-stop -k, kill -9 inside
the container, the cgroup freezer, an nftables bridge table dropping traffic between the
nodes' veths). Partitions stay until heal, also across tpa runs; the host always reaches
every node. Needs root.

Examples:
  $ sudo tpa fault acme main-1 kill postgres      # crash the primary's postmaster
  $ sudo tpa fault acme main-1 poweroff && sudo tpa fault acme main-1 start
  $ sudo tpa fault acme main-2 freeze             # a hung replica
  $ sudo tpa fault acme main-1 isolate            # primary cut off from the replicas
  $ sudo tpa fault acme main-1 partition main-2
  $ sudo tpa fault acme heal
`,
    )
    .action(
      async (
        dir: string,
        node: string,
        action: string | undefined,
        arg: string | undefined,
        opts: { json?: boolean },
      ) => {
        const json = opts.json === true;
        try {
          // `tpa fault DIR heal` reads naturally: heal concerns the group, not a node
          if (action === undefined && node === 'heal') action = 'heal';
          if (action === undefined) {
            throw new UsageError(
              'which fault?',
              `give an action after the node: ${FAULT_ACTIONS.join(', ')}`,
            );
          }
          const out = await injectFault({
            dir,
            node,
            action,
            ...(arg !== undefined ? { arg } : {}),
            events: eventSink(json),
          });
          if (json) printJson({ ok: true, ...out });
          else
            process.stderr.write(
              c.green(
                `${out.action} ${out.action === 'heal' ? 'done' : `${out.node}${out.arg ? ` ${out.arg}` : ''}: done`} in ${(out.durationMs / 1000).toFixed(1)} s\n`,
              ),
            );
        } catch (err) {
          setExit(reportError(err, json));
        }
      },
    );
};
