/**
 * tpa secrets DIR [NAME]: list the secret names of a cluster directory, or print one value.
 */
import type { Command } from 'commander';
import { listClusterSecrets, readClusterSecret } from './index.ts';
import { c, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('secrets')
    .description('list the secrets of a cluster directory, or print one of them')
    .argument('<dir>', 'cluster directory')
    .argument('[name]', 'the secret to print (only its value goes to stdout)')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Secrets (generated passwords, the SSH key pair) are kept in DIR/secrets.enc.json, each
encrypted with AES-256-GCM. The key is outside the directory, so the directory can be pushed
to git: TPA_SECRET_KEY (base64 of 32 bytes), else the file TPA_KEY_FILE, else
~/.config/tpa/secret.key (created on first use, mode 0600). Keep a copy of that key: without
it the secrets cannot be read. Listing the names needs no key.

Examples:
  $ tpa secrets acme                                 # the names and what each is for
  $ tpa secrets acme --json
  $ tpa secrets acme postgres_password               # the postgres password, nothing else
  $ PGPASSWORD=$(tpa secrets acme postgres_password) psql -h 10.0.3.11 -U postgres
  $ tpa secrets acme ssh_private_key > ~/.ssh/acme && chmod 600 ~/.ssh/acme
  $ tpa secrets acme postgres_password --json        # {"name": ..., "value": ...}
`,
    )
    .action(async (dir: string, name: string | undefined, opts: { json?: boolean }) => {
      const json = opts.json === true;
      try {
        if (name !== undefined) {
          const value = await readClusterSecret(dir, name);
          if (json) printJson({ name, value });
          // piped: exactly the value; on a terminal: end the line so the prompt stays apart
          else process.stdout.write(process.stdout.isTTY && !value.endsWith('\n') ? `${value}\n` : value);
          return;
        }
        const listing = await listClusterSecrets(dir);
        if (json) {
          printJson(listing);
          return;
        }
        if (listing.secrets.length === 0) {
          process.stderr.write(`no secrets in ${dir} (tpa configure creates them)\n`);
          return;
        }
        const width = Math.max(...listing.secrets.map((s) => s.name.length));
        for (const s of listing.secrets) {
          process.stdout.write(`${s.name.padEnd(width)}  ${c.dim(s.description ?? '')}`.trimEnd() + '\n');
        }
        process.stderr.write(c.dim(`key: ${listing.keySource}\n`));
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
