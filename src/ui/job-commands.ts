/**
 * The operations the console offers on a group: read from the CLI's own command tree (every
 * command in cli/registry.ts whose first argument is the cluster directory), so that a new
 * command appears in the console without a change here. Left out: what needs a terminal, what
 * makes a new directory, and what prints secrets (they reach the browser only on an explicit
 * reveal, which this console does not have yet).
 */
import type { Command } from 'commander';
import type { JobCommand } from './types.ts';

const NOT_AS_JOBS = new Set(['configure', 'demo', 'ssh', 'psql', 'secrets', 'ui']);
const NOT_AS_OPTIONS = new Set(['--json', '--yes', '--show-secrets', '--help']);

export function jobCommandsOf(program: Command): JobCommand[] {
  const out: JobCommand[] = [];
  for (const cmd of program.commands) {
    const [first, ...rest] = cmd.registeredArguments;
    if (NOT_AS_JOBS.has(cmd.name()) || first?.name() !== 'dir') continue;
    const longs = cmd.options.map((o) => o.long);
    out.push({
      verb: cmd.name(),
      description: cmd.description(),
      args: rest.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic })),
      options: cmd.options
        .filter((o) => o.long !== undefined && !NOT_AS_OPTIONS.has(o.long))
        .map((o) => ({ flag: o.long!, takesValue: o.required || o.optional, description: o.description })),
      json: longs.includes('--json'),
      yes: longs.includes('--yes'),
    });
  }
  return out;
}
