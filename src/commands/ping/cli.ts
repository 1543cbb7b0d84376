/** tpa ping DIR: an SSH round trip to every host of the group, in parallel. */
import Table from 'cli-table3';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { pingCluster } from './index.ts';
import { c, eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('ping')
    .description('check that every host answers over SSH, with the host key recorded at provision')
    .argument('<dir>', 'cluster directory (provisioned)')
    .option('--timeout <seconds>', 'per host, to connect and log in (default 5)')
    .option('--json', 'the result as JSON')
    .addHelpText(
      'after',
      `
Connects to every host of DIR/inventory.json at once, with the cluster's key and strict
checking against DIR/known_hosts, and runs one trivial command. Prints each host's role,
address, the time to connect and the round trip of the command. A frozen host fails after
--timeout seconds. Exit code 1 when any host is unreachable, 0 when all answer.

Examples:
  $ tpa ping acme
  $ tpa ping acme --timeout 2 --json | jq '.hosts[] | select(.ok | not) | .node'
`,
    )
    .action(async (dir: string, opts: { timeout?: string; json?: boolean }) => {
      const json = opts.json === true;
      try {
        let timeoutMs: number | undefined;
        if (opts.timeout !== undefined) {
          const s = Number(opts.timeout);
          if (!Number.isFinite(s) || s <= 0 || s > 300) {
            throw new UsageError(`--timeout must be a number of seconds (0-300], not ${opts.timeout}`);
          }
          timeoutMs = Math.round(s * 1000);
        }
        // per-host results are the table; progress events would only repeat them
        const report = await pingCluster(dir, {
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          ...(json ? {} : { events: (e) => (e.kind === 'warning' ? eventSink(false)(e) : undefined) }),
        });
        if (json) {
          printJson(report);
        } else {
          const table = new Table({
            head: ['node', 'role', 'address', 'status', 'connect ms', 'latency ms'],
            style: { head: [], border: [], compact: true },
          });
          for (const h of report.hosts) {
            const where = h.port === 22 ? h.address : `${h.address}:${h.port}`;
            table.push([
              h.node,
              h.role,
              where,
              h.ok ? c.green('ok') : c.red(`unreachable: ${h.error ?? ''}`),
              h.connectMs ?? '',
              h.latencyMs ?? '',
            ]);
          }
          process.stdout.write(table.toString() + '\n');
          const down = report.hosts.filter((h) => !h.ok);
          for (const h of down) if (h.hint) process.stderr.write(`hint: ${h.node}: ${h.hint}\n`);
          process.stderr.write(
            down.length === 0
              ? c.green(`all ${report.hosts.length} hosts answer\n`)
              : c.red(`${down.length} of ${report.hosts.length} hosts unreachable\n`),
          );
        }
        if (!report.ok) setExit(1);
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
