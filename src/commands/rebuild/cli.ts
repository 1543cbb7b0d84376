/** tpa rebuild DIR NODE: a broken standby is cloned afresh from the primary of now. */
import type { Command } from 'commander';
import { runNodeOperation } from '../rejoin/index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('rebuild')
    .description('clone a broken standby afresh from the primary of now')
    .argument('<dir>', 'cluster directory')
    .argument('<node>', 'the standby to rebuild')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
The node's server is stopped, its data directory removed, and a new copy cloned from the
primary of now; it starts and registers as a standby of that primary. Refused (exit 2,
nothing changed) for the primary of now.

Example:
  $ tpa rebuild acme main-3
`,
    )
    .action(async (dir: string, node: string, opts: { json?: boolean }) => {
      const json = opts.json === true;
      try {
        const out = await runNodeOperation({ dir, node, events: eventSink(json) }, 'rebuild');
        if (json) printJson({ ok: true, ...out });
        else
          process.stderr.write(
            c.green(
              `${out.node} is cloned afresh from ${out.primary}, streaming, in ${(out.durationMs / 1000).toFixed(1)} s\n`,
            ),
          );
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
