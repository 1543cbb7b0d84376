/** tpa plan DIR: what a deploy would change now, grouped by host and phase, with diffs. */
import type { Command } from 'commander';
import { planJson, renderPlan, type LineStyle } from '../../plan/render.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import { parseConcurrency } from '../deploy/cli.ts';
import type { RegisterCommand } from '../../cli/types.ts';

const styles: Record<LineStyle, (s: string) => string> = {
  host: (s) => c.bold(s),
  phase: (s) => c.cyan(s),
  change: (s) => c.yellow(s),
  add: (s) => c.green(s),
  del: (s) => c.red(s),
  hunk: (s) => c.magenta(s),
  context: (s) => c.dim(s),
  note: (s) => c.yellow(s),
  refusal: (s) => c.red(c.bold(s)),
};

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('plan')
    .description('show the changes tpa deploy would make, without making them')
    .argument('<dir>', 'cluster directory (provisioned)')
    .option('--json', 'print the plan as JSON')
    .option('--concurrency <n>', 'hosts to gather facts from at once', parseConcurrency)
    .addHelpText(
      'after',
      `
Gathers facts from every host (one SSH round trip each, all hosts at once) and compares them
with what config.yml describes: packages, files (with a unified diff; secret files only say
"changed (secret)"), services, postgres settings (reload or restart, from pg_settings.context),
roles, databases and the actions components need. Nothing on the hosts is changed.

Later phases are computed from the facts as they are now; where an earlier phase has changes
they are marked "pending earlier phases" and may differ once those have run. Refusals (a node
whose role differs from config.yml, a replication loop, an unreachable host) are listed first:
deploy would stop on them without changing anything.

Exit codes: 0 (also when there are changes), 1 a host could not be asked, 2 bad input.

Examples:
  $ tpa plan acme
  $ tpa plan acme --json | jq '.hosts[].changes[].summary'
`,
    )
    .action(async (dir: string, opts: { json?: boolean; concurrency?: number }) => {
      const json = opts.json === true;
      try {
        // loaded on use: the CLI starts faster when every command does not load every module
        const { plan } = await import('./index.ts');
        const out = await plan({
          dir,
          events: eventSink(json),
          ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        });
        if (out.unreachable.length > 0) setExit(1);
        if (json) {
          printJson({ ok: out.unreachable.length === 0, ...planJson(out.plan), durationMs: out.durationMs });
          return;
        }
        for (const line of renderPlan(out.plan)) process.stdout.write(styles[line.style](line.text) + '\n');
        const n = out.changes;
        const hosts = out.plan.hosts.filter((h) => h.changes.length > 0).length;
        process.stdout.write(
          n === 0 && out.plan.refusals.length === 0
            ? c.green('no changes\n')
            : `${n} change${n === 1 ? '' : 's'} on ${hosts} host${hosts === 1 ? '' : 's'}` +
                (out.plan.refusals.length
                  ? c.red(`; ${out.plan.refusals.length} refused (deploy would stop)`)
                  : '') +
                '\n',
        );
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
