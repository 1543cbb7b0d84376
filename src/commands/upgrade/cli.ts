/** tpa upgrade DIR: a rolling minor upgrade of PostgreSQL, no client error. */
import type { Command } from 'commander';
import { upgrade } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('upgrade')
    .description('rolling minor upgrade of PostgreSQL: standbys one at a time, a switchover, the old primary')
    .argument('<dir>', 'cluster directory')
    .option('--cluster <name>', 'only this cluster (default: every cluster of the group)')
    .option(
      '--to <version>',
      'a Debian package version or a release, e.g. 15.20 (default: the newest the mirror has)',
    )
    .option(
      '--no-switchover',
      'restart the primary in place (clients wait in pgbouncer) instead of switching over',
    )
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Checked first, nothing changed on a refusal (exit 2): every node of the cluster runs and every
standby streams, every node's package mirror carries the version, no node has a newer one.
Then config.yml pins the version (postgres.package_version, or the cluster's own with --cluster;
committed: "upgrade: PostgreSQL 15.18-0+deb12u1 -> 15.20-0+deb12u1"), each standby in turn
installs the packages (server, client, libpq, the failover manager's) and restarts on them
while repmgrd holds still, and streams again before the next one; a switchover then hands the
primary to an upgraded standby (clients stall for a moment, none fails) and the old primary is
upgraded as a standby. The primary stays on its new node: tpa switchover --to moves it back.
Nodes already at the version are left alone: a run that stopped half-way goes on when run again.

Examples:
  $ tpa upgrade acme
  $ tpa upgrade acme --cluster main --to 15.20
`,
    )
    .action(
      async (dir: string, opts: { cluster?: string; to?: string; switchover: boolean; json?: boolean }) => {
        const json = opts.json === true;
        try {
          const out = await upgrade({
            dir,
            events: eventSink(json),
            ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
            ...(opts.to !== undefined ? { to: opts.to } : {}),
            ...(opts.switchover === false ? { noSwitchover: true } : {}),
          });
          if (json) printJson({ ok: true, ...out });
          else {
            const moved = out.switchovers
              .map(
                (s) =>
                  `; the primary moved ${s.from} -> ${s.to} (clients stalled ${(s.stallMs / 1000).toFixed(1)} s)`,
              )
              .join('');
            process.stderr.write(
              c.green(
                out.nodes.length === 0
                  ? `every node runs PostgreSQL ${out.target} already; nothing upgraded${out.commit ? `; config.yml: commit ${out.commit.slice(0, 7)}` : ''}\n`
                  : `${out.nodes.length} node${out.nodes.length === 1 ? '' : 's'} upgraded to PostgreSQL ${out.target} in ${(out.durationMs / 1000).toFixed(1)} s${moved}${out.commit ? `; config.yml: commit ${out.commit.slice(0, 7)}` : ''}\n`,
              ),
            );
          }
        } catch (err) {
          setExit(reportError(err, json));
        }
      },
    );
};
