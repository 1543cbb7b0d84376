/** tpa psql DIR [NODE] [-- psql args]: a psql session as the superuser, over TLS. */
import type { Command } from 'commander';
import { c, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

/**
 * Words after `--` are psql's. Commander fills [node] from them when no node is given before
 * the `--`, so a node only counts when it was written before it.
 */
export function splitPsqlArgs(
  raw: readonly string[],
  node: string | undefined,
  rest: string[],
): { node: string | undefined; args: string[] } {
  const dd = raw.indexOf('--');
  if (node !== undefined && dd >= 0 && !raw.slice(0, dd).includes(node)) {
    return { node: undefined, args: [node, ...rest] };
  }
  return { node, args: rest };
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('psql')
    .description('open psql on a node as the postgres superuser (TLS; the current primary by default)')
    .argument('<dir>', 'cluster directory')
    .argument('[node]', 'node to connect to (default: the primary of now)')
    .argument('[psql-args...]', "psql's own arguments, after --")
    .addHelpText(
      'after',
      `
Runs this machine's psql (package postgresql-client-15) against the node's postgres on port
5432 as user postgres, with TLS: sslmode=verify-full against the group's CA (DIR/tls/ca.crt),
or sslmode=require when the directory has no CA. The password comes from the vault in a
0600 password file (PGPASSFILE) that is removed when psql exits; it is never on a command
line. This machine must be allowed by access.client_cidrs.

Examples:
  $ tpa psql acme
  $ tpa psql acme main-2
  $ tpa psql acme -- -c 'SELECT pg_is_in_recovery()'
  $ tpa psql acme main-3 -- -Atc 'SELECT count(*) FROM pg_stat_activity'
`,
    )
    .action(async (dir: string, nodeArg: string | undefined, rest: string[]) => {
      try {
        const { node, args } = splitPsqlArgs(process.argv, nodeArg, rest);
        const { runPsql } = await import('./index.ts');
        const code = await runPsql(dir, node, args, (p) => {
          if (process.stderr.isTTY && args.length === 0) {
            process.stderr.write(
              c.dim(
                `connecting to ${p.node} (${p.address})${p.chosen === 'primary' ? ', the primary' : ''}\n`,
              ),
            );
          }
        });
        setExit(code);
      } catch (err) {
        setExit(reportError(err, false));
      }
    });
};
