/** tpa ui: the web console for the cluster directories of a workspace. */
import { InvalidArgumentError, type Command } from 'commander';
import { c, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const DEFAULT_LISTEN = '127.0.0.1:8765';

/** HOST:PORT ([v6]:PORT for IPv6); port 0 takes any free one */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new InvalidArgumentError('give HOST:PORT, e.g. 127.0.0.1:8765');
  return { host: (m[1] ?? m[2])!, port };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('ui')
    .description('the web console: see, create, edit and operate the cluster groups of a workspace')
    .option('--workspace <dir>', 'the directory holding the cluster directories (default: here)', '.')
    .option('--listen <host:port>', `where to listen (default ${DEFAULT_LISTEN})`, parseListen)
    .addHelpText(
      'after',
      `
Serves the console until interrupted (Ctrl-C). It prints a URL with an access token, made
anew at each start: open it; the browser keeps the token in a cookie. Every request needs it.
Operations run as jobs of this CLI (bin/tpa VERB DIR --json), one per group at a time, under
the group's lock that the CLI honours too; their logs are kept in DIR/.tpa/jobs/.

It listens on the loopback address only, unless --listen says otherwise: anyone who can reach
it and has the token can operate the groups.

Examples:
  $ tpa ui --workspace ~/clusters
  $ tpa ui --listen 127.0.0.1:0      # any free port
`,
    )
    .action(async (opts: { workspace: string; listen?: { host: string; port: number } }) => {
      try {
        const { ui } = await import('./index.ts');
        const listen = opts.listen ?? parseListen(DEFAULT_LISTEN);
        const server = await ui({ workspace: opts.workspace, ...listen, program });
        process.stdout.write(`tpa ui: the console of workspace ${opts.workspace}\n`);
        process.stdout.write(`open: ${c.bold(server.loginUrl)}\n`);
        if (!LOOPBACK.test(listen.host)) {
          process.stderr.write(
            c.yellow(
              `warning: listening on ${listen.host}: reachable from other machines (token required)\n`,
            ),
          );
        }
        await new Promise<void>((done) => {
          const stop = () => void server.close().then(done);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      } catch (err) {
        setExit(reportError(err, false));
      }
    });
};
