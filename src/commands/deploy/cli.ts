/** tpa deploy DIR: install and configure everything config.yml describes, converging the hosts. */
import { InvalidArgumentError, type Command } from 'commander';
import { eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError('a whole number from 1 to 256');
  return n;
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('deploy')
    .description('install and configure postgres, replicas, failover, pooler and backups on the hosts')
    .argument('<dir>', 'cluster directory (provisioned)')
    .option('--json', 'progress as JSON lines, then the result as the last line')
    .option('--concurrency <n>', 'hosts worked on at once (default 10)', parseConcurrency)
    .addHelpText(
      'after',
      `
Runs in phases: common, postgres-primary, postgres-replicas, failover-manager, pooler, backups,
client-access, checks. Before each phase tpa gathers facts from the hosts it changed (one SSH
round trip per host), plans the phase and applies it: hosts in parallel, each host's changes in
order. Restarts and reloads run once per host at the end of a phase, replicas before the
primary. A failing host stops; the others finish the phase; then deploy stops with the host,
the step and its error (exit 1). Running it again continues from where the cluster is.

Deploy never promotes or demotes a node, never drops anything and never initialises over
existing data: such a difference is refused before anything is changed (tpa plan shows it).
On a converged cluster it changes nothing and says "no changes".

Examples:
  $ tpa plan acme        # see what would change
  $ tpa deploy acme
  $ TPA_VERBOSE=1 tpa deploy acme       # also show the commands' output
  $ tpa deploy acme --json | tail -1 | jq .summary
`,
    )
    .action(async (dir: string, opts: { json?: boolean; concurrency?: number }) => {
      const json = opts.json === true;
      try {
        // loaded on use: the CLI starts faster when every command does not load every module
        const { deploy } = await import('./index.ts');
        const out = await deploy({
          dir,
          events: eventSink(json),
          ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        });
        if (json) printJson(out);
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
