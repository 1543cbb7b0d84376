/** tpa validate DIR: every problem in config.yml, with line, column and field. */
import type { Command } from 'commander';
import { formatIssue } from '../../core/errors.ts';
import { validateClusterDir } from './index.ts';
import { c, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('validate')
    .description('check DIR/config.yml and report every problem at once (changes nothing)')
    .argument('<dir>', 'cluster directory')
    .option('--json', 'machine-readable output: {ok, file, errors, warnings}')
    .addHelpText(
      'after',
      `
Each problem is one line: FILE:LINE:COL FIELD.PATH: MESSAGE (HINT). Warnings (valid but
risky choices, such as a cluster without replicas) are shown too but do not fail.
Exit code: 0 valid (warnings allowed), 2 problems found or DIR is not a cluster directory.

Examples:
  $ tpa validate acme
  $ tpa validate acme --json | jq '.errors[].path'
`,
    )
    .action(async (dir: string, opts: { json?: boolean }) => {
      const json = opts.json === true;
      try {
        const report = await validateClusterDir(dir);
        if (json) {
          printJson(report);
        } else {
          for (const e of report.errors) process.stdout.write(c.red(formatIssue(e)) + '\n');
          for (const w of report.warnings)
            process.stdout.write(c.yellow(formatIssue({ ...w, message: `warning: ${w.message}` })) + '\n');
          const counts = [
            `${report.errors.length} error${report.errors.length === 1 ? '' : 's'}`,
            `${report.warnings.length} warning${report.warnings.length === 1 ? '' : 's'}`,
          ].join(', ');
          process.stderr.write(
            report.ok
              ? c.green(`${report.file} is valid (${counts})\n`)
              : c.red(`${report.file}: ${counts}\n`),
          );
        }
        setExit(report.ok ? 0 : 2);
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
