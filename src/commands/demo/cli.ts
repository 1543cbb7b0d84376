/** tpa demo [DIR]: configure, provision, deploy and test a demo cluster on local containers. */
import type { Command } from 'commander';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('demo')
    .description('build a demo cluster on local lxc containers and prove it works (needs root)')
    .argument('[dir]', 'cluster directory to create or continue', 'tpa-demo')
    .option('--json', 'progress as JSON lines, then the outcome')
    .addHelpText(
      'after',
      `
Runs the four stages on this machine: tpa configure (M1: a primary and two replicas, repmgr,
pgbouncer, no backups; platform lxc), tpa provision, tpa deploy, tpa test, then prints the
hand-over sheet (tpa info). Needs root on Debian 12; the first run installs lxc and builds a
base image. Every stage is idempotent: running tpa demo again on the same directory
continues where it stopped (or re-checks a finished demo) instead of failing.

Afterwards:
  $ tpa status tpa-demo
  $ tpa psql tpa-demo
  $ tpa deprovision tpa-demo --yes      # remove the containers

Examples:
  $ sudo bin/tpa demo
  $ sudo bin/tpa demo /srv/demo-2
`,
    )
    .action(async (dir: string, opts: { json?: boolean }) => {
      const json = opts.json === true;
      try {
        const { demo } = await import('./index.ts');
        const { renderTestTable } = await import('../test/cli.ts');
        const { renderInfoMarkdown } = await import('../info/cli.ts');
        const out = await demo({ dir, events: eventSink(json) });
        if (json) {
          printJson({ ok: out.test.ok, ...out });
        } else {
          process.stdout.write(`\n${renderTestTable(out.test)}\n`);
          process.stdout.write(renderInfoMarkdown(out.info));
          process.stdout.write(
            '\n' +
              (out.test.ok
                ? c.green(`demo ready in ${(out.durationMs / 1000).toFixed(0)} s.`)
                : c.red('the demo cluster is up, but some checks failed (above).')) +
              `\nnext: tpa status ${dir}; tpa psql ${dir}; tpa deprovision ${dir} --yes\n`,
          );
        }
        setExit(out.test.ok ? 0 : 1);
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
