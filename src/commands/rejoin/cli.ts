/** tpa rejoin DIR NODE: a former primary or a lost standby follows the primary of now again. */
import type { Command } from 'commander';
import { runNodeOperation } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('rejoin')
    .description('bring a former primary (fenced after a failover) back as a standby of the primary of now')
    .argument('<dir>', 'cluster directory')
    .argument('<node>', 'the node to rejoin')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
The node's data is rewound to the primary of now (pg_rewind, through the failover manager);
when that cannot work, it is cloned afresh and the old data directory is kept beside it.
Refused (exit 2, nothing changed) for the primary of now and for a healthy standby.

Example:
  $ tpa rejoin acme main-1
`,
    )
    .action(async (dir: string, node: string, opts: { json?: boolean }) => {
      const json = opts.json === true;
      try {
        const out = await runNodeOperation({ dir, node, events: eventSink(json) }, 'rejoin');
        if (json) printJson({ ok: true, ...out });
        else {
          const how = out.method === 'rewind' ? 'rewound' : 'cloned afresh';
          process.stderr.write(
            c.green(
              `${out.node} is a standby of ${out.primary} again (${how}), streaming, in ${(out.durationMs / 1000).toFixed(1)} s\n`,
            ),
          );
          if (out.rewindFailed)
            process.stderr.write(c.yellow(`the rewind did not work: ${out.rewindFailed}\n`));
          if (out.keptDataDir)
            process.stderr.write(
              c.yellow(`the old data directory is kept on ${out.node} at ${out.keptDataDir}\n`),
            );
        }
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
