/** tpa provision DIR: create (or adopt) the machines of a cluster group and record how to reach them. */
import type { Command } from 'commander';
import { provision } from './index.ts';
import { c, eventSink, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('provision')
    .description('create the machines of a cluster group (or adopt them), reachable over SSH')
    .argument('<dir>', 'cluster directory (made by tpa configure)')
    .option('--json', 'progress as JSON lines, then the result as the last line')
    .addHelpText(
      'after',
      `
Reads DIR/config.yml, makes every machine it describes on its platform, waits until sshd
answers on each, and writes DIR/inventory.json (addresses, roles, sizes) and DIR/known_hosts
(the machines' SSH host keys), committed to DIR's git history. Running it again changes
nothing ("no changes"); after an edit of config.yml it converges: missing machines are made,
stopped ones started, removed ones destroyed.

Platform lxc (the default) needs a Debian host and root. The first run installs lxc,
debootstrap, apt-cacher-ng and nftables when missing and builds a Debian 12 base image
(a minute or two, once per host); later groups start from it in seconds.

Examples:
  $ tpa configure acme --replicas 2 --backup shared
  $ sudo tpa provision acme
  $ sudo tpa provision acme --json | tail -1 | jq .inventory.hosts
  $ ssh -i "$(jq -r '.hosts[0].sshKey' acme/inventory.json)" -o UserKnownHostsFile=acme/known_hosts root@10.123.7.11
`,
    )
    .action(async (dir: string, opts: { json?: boolean }) => {
      const json = opts.json === true;
      try {
        const out = await provision({ dir, events: eventSink(json) });
        if (json) {
          process.stdout.write(JSON.stringify({ ok: true, ...out }) + '\n');
          return;
        }
        for (const h of out.inventory.hosts) {
          process.stdout.write(
            `${h.name.padEnd(16)} ${h.address.padEnd(16)} ${c.dim(`${h.role}, ${h.instanceType}`)}\n`,
          );
        }
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
