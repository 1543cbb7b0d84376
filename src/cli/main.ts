#!/usr/bin/env node
/**
 * The tpa command. Each command lives in commands/<verb>/: its cli.ts registers it (listed
 * in registry.ts), its index.ts does the work.
 */
import { Command, CommanderError } from 'commander';
import { reportError } from './output.ts';
import { TPA_VERSION } from '../core/version.ts';
import { commands } from './registry.ts';
import { takeGroupLockBeforeActions } from './group-lock.ts';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('tpa')
    .description('Trusted Postgres Architecture: build and run production PostgreSQL clusters')
    .version(TPA_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  let exitCode = 0;
  for (const register of commands) {
    register(program, (code) => {
      exitCode = code;
    });
  }
  takeGroupLockBeforeActions(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; anything else commander rejects is bad input
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(err, argv.includes('--json'));
  }
  return exitCode;
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
