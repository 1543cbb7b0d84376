/** tpa cost DIR: monthly estimate per machine, per cluster and for the group. */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { formatIssue } from '../../core/errors.ts';
import { estimateClusterCost } from './index.ts';
import { c, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

const money = (n: number | null) => (n === null ? '?' : `$${n.toFixed(2)}`);

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('cost')
    .description('estimate the monthly cost of the machines of a cluster directory')
    .argument('<dir>', 'cluster directory')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
aws machines are priced from tpa's table of AWS on-demand list prices (data/prices.json,
which says the region and date the prices were taken): instance hours (730 a month) plus
gp3 volume storage. lxc and bare machines cost 0 unless config.yml says what they cost:

  prices:
    instances: { small: 12.5, medium: 25 }   # USD per month per instance type
    volume_gb_month: 0.05                     # USD per GB per month

Examples:
  $ tpa cost acme
  $ tpa cost acme --json | jq .total
`,
    )
    .action(async (dir: string, opts: { json?: boolean }) => {
      const json = opts.json === true;
      try {
        const est = await estimateClusterCost(dir);
        if (json) {
          printJson(est);
          return;
        }
        for (const w of est.warnings)
          process.stderr.write(c.yellow(formatIssue({ ...w, message: `warning: ${w.message}` })) + '\n');
        const table = new Table({
          head: [
            'host',
            'cluster',
            'role',
            'instance',
            'volume',
            'instance/month',
            'volume/month',
            'total/month',
          ],
          style: { head: [], border: [], compact: true },
          colAligns: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right'],
        });
        for (const h of est.hosts) {
          table.push([
            h.name,
            h.cluster ?? '-',
            h.role,
            h.instanceType,
            `${h.volumeGb} GB`,
            money(h.instanceMonthly),
            money(h.volumeMonthly),
            money(h.monthly),
          ]);
        }
        process.stdout.write(table.toString() + '\n');
        for (const cl of est.clusters)
          process.stdout.write(`cluster ${cl.name}: ${money(cl.monthly)} a month\n`);
        if (est.hosts.some((h) => h.cluster === undefined)) {
          process.stdout.write(`shared services: ${money(est.services.monthly)} a month\n`);
        }
        process.stdout.write(
          c.bold(`group ${est.group}: ${money(est.total)} a month${est.incomplete ? ' (at least)' : ''}`) +
            '\n',
        );
        for (const n of est.notes) process.stdout.write(c.dim(`note: ${n}`) + '\n');
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
