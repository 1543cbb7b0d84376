/** tpa switchover DIR [--to NODE]: move the primary to a standby, planned (no write lost). */
import type { Command } from 'commander';
import { switchover } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('switchover')
    .description('move the primary to a standby: clients stall for a moment, no write is lost')
    .argument('<dir>', 'cluster directory')
    .option('--to <node>', 'the standby to promote (default: the most caught-up one)')
    .option('--cluster <name>', 'the cluster (needed without --to when the group has several)')
    .option('--force', 'end transactions that have been open for 30 s or more instead of refusing')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Checked first, nothing changed on a refusal: every node of the cluster up, the target streaming
from the primary with little lag, no long transaction on the primary (unless --force).
Then the failover manager and every pgbouncer pause, the primary stops cleanly, the target
replays all of its WAL and is promoted, every pgbouncer points at it and resumes; the old
primary rejoins as a standby, the others follow, and config.yml records the new primary in a
commit ("switchover: main-1 -> main-2"). Run it again with --to the old primary to fail back.

Example:
  $ tpa switchover acme --to main-2
`,
    )
    .action(async (dir: string, opts: { to?: string; cluster?: string; force?: boolean; json?: boolean }) => {
      const json = opts.json === true;
      try {
        const out = await switchover({
          dir,
          events: eventSink(json),
          ...(opts.to !== undefined ? { to: opts.to } : {}),
          ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
          ...(opts.force ? { force: true } : {}),
        });
        if (json) printJson({ ok: true, ...out });
        else
          process.stderr.write(
            c.green(
              `switchover ${out.from} -> ${out.to} done in ${(out.durationMs / 1000).toFixed(1)} s; clients stalled ${(out.stallMs / 1000).toFixed(1)} s; every standby streams from ${out.to}${out.commit ? `; config.yml: commit ${out.commit.slice(0, 7)}` : ''}\n`,
            ),
          );
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
