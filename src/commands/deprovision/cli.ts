/** tpa deprovision DIR: destroy the machines of a cluster group (after a confirmation). */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { deprovision } from './index.ts';
import { eventSink, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('deprovision')
    .description("destroy a cluster group's machines and everything made for them")
    .argument('<dir>', 'cluster directory')
    .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--json', 'progress as JSON lines, then the result as the last line')
    .addHelpText(
      'after',
      `
Destroys the group's machines with all their data; other groups keep running. On lxc it
removes the group's containers, its bridge, its nft tables and cgroup leftovers; the
shared base image and package cache stay for the next group. DIR/config.yml and the git
history stay: tpa provision DIR builds the group again. inventory.json and known_hosts are
removed (committed).

Asks before destroying anything; without a terminal it refuses unless --yes is given.

Examples:
  $ sudo tpa deprovision acme
  $ sudo tpa deprovision acme --yes --json
`,
    )
    .action(async (dir: string, opts: { yes?: boolean; json?: boolean }) => {
      const json = opts.json === true;
      try {
        const out = await deprovision({
          dir,
          events: eventSink(json),
          yes: opts.yes === true,
          ...(process.stdin.isTTY && !json ? { confirm: askOnTerminal } : {}),
        });
        if (json) process.stdout.write(JSON.stringify({ ok: true, ...out }) + '\n');
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
