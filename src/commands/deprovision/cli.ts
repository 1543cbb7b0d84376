/** tpa deprovision DIR: destroy the machines of a cluster group (after a confirmation). */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { deprovision, deprovisionOrphans } from './index.ts';
import { eventSink, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';
import { askOnTerminal } from '../../cli/confirm.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('deprovision')
    .description("destroy a cluster group's machines and everything made for them")
    .argument('[dir]', 'cluster directory')
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--orphans', 'instead of DIR: the lxc groups on this host whose cluster directory is gone')
    .option('--json', 'progress as JSON lines, then the result as the last line')
    .addHelpText(
      'after',
      `
Destroys the group's machines with all their data; other groups keep running. On lxc it
removes the group's containers, its bridge, its nft tables and cgroup leftovers; the
shared base image and package cache stay for the next group. DIR/config.yml and the git
history stay: tpa provision DIR builds the group again. inventory.json and known_hosts are
removed (committed).

--orphans: a cluster directory that was deleted leaves its containers running. This finds
every lxc group on this host whose directory no longer holds it (or that no host record
names), lists them, and removes them like deprovision would. Without --yes and without a
terminal it only lists them (exit 2).

Asks before destroying anything; without a terminal it refuses unless --yes is given.

Examples:
  $ sudo tpa deprovision acme
  $ sudo tpa deprovision acme --yes --json
  $ sudo tpa deprovision --orphans
  $ sudo tpa deprovision --orphans --yes
`,
    )
    .action(async (dir: string | undefined, opts: { yes?: boolean; json?: boolean; orphans?: boolean }) => {
      const json = opts.json === true;
      const request = {
        events: eventSink(json),
        yes: opts.yes === true,
        ...(process.stdin.isTTY && !json ? { confirm: askOnTerminal } : {}),
      };
      try {
        if (opts.orphans && dir !== undefined)
          throw new UsageError('give either a cluster directory or --orphans, not both');
        if (opts.orphans) {
          const out = await deprovisionOrphans(request);
          if (json) process.stdout.write(JSON.stringify({ ok: true, ...out }) + '\n');
          return;
        }
        if (dir === undefined)
          throw new UsageError('say what to deprovision: a cluster directory, or --orphans');
        const out = await deprovision({ dir, ...request });
        if (json) process.stdout.write(JSON.stringify({ ok: true, ...out }) + '\n');
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
