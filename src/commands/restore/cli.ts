/** tpa restore DIR --cluster C (--time T | --lsn L | --backup ID | --latest) --into NEW */
import { InvalidArgumentError, type Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import type { RestoreTarget } from '../../components/barman/recovery.ts';
import { eventSink, printJson, reportError } from '../../cli/output.ts';
import type { RegisterCommand } from '../../cli/types.ts';

interface Opts {
  cluster: string;
  time?: string;
  lsn?: string;
  backup?: string;
  latest?: boolean;
  into?: string;
  replicas?: number;
  inPlace?: boolean;
  yes?: boolean;
  json?: boolean;
}

function parseReplicas(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 9) throw new InvalidArgumentError('a whole number from 0 to 9');
  return n;
}

async function targetOf(o: Opts): Promise<RestoreTarget> {
  const given = [o.time, o.lsn, o.backup, o.latest ? 'latest' : undefined].filter((x) => x !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --time, --lsn, --backup, --latest');
  const { parseTargetTime, parseLsn, TargetSyntaxError } =
    await import('../../components/barman/recovery.ts');
  try {
    if (o.time !== undefined) return { kind: 'time', time: parseTargetTime(o.time) };
    if (o.lsn !== undefined) {
      parseLsn(o.lsn);
      return { kind: 'lsn', lsn: o.lsn };
    }
  } catch (e) {
    if (e instanceof TargetSyntaxError) throw new UsageError(e.message);
    throw e;
  }
  if (o.backup !== undefined) return { kind: 'backup', id: o.backup };
  return { kind: 'latest' };
}

export const register: RegisterCommand = (program: Command, setExit) => {
  program
    .command('restore')
    .description('point-in-time recovery from barman: into a new cluster of the group, or in place')
    .argument('<dir>', 'cluster directory')
    .requiredOption('--cluster <name>', 'the cluster whose backups to restore')
    .option('--time <timestamp>', 'recover up to this time (ISO 8601; UTC when no zone is given)')
    .option('--lsn <lsn>', 'recover up to this WAL position, e.g. 0/3000028')
    .option('--backup <id>', 'restore this backup as it was when it ended')
    .option('--latest', 'the newest backup and every archived WAL file')
    .option('--into <new-cluster>', 'the new cluster to create (nodes NEW-1, NEW-2, ...)')
    .option(
      '--replicas <n>',
      'replicas of the new cluster, cloned from the restored primary (default 0)',
      parseReplicas,
    )
    .option('--in-place', 'restore over the cluster itself; its data directories are kept aside')
    .option('--yes', 'confirm --in-place')
    .option('--json', 'progress as JSON lines, then the result')
    .addHelpText(
      'after',
      `
The target is checked against what barman holds before anything changes: a time before the
oldest backup ends or after the last archived WAL (tpa archives the primary's current WAL
first) is refused with the recoverable range (exit 2). Then the new cluster is added to
config.yml (committed), its machines are provisioned, barman recovers the chosen backup and
replays WAL up to the target straight into the new primary's data directory over SSH, the
server promotes there, and tpa deploy configures the new cluster like any other (replicas
cloned from it, repmgr, pgbouncer, its own backups). The original cluster keeps running and
its backups are untouched. Remove the new cluster with tpa deprovision after deleting it from
config.yml, or keep it.

In place (--in-place --yes): every node of the cluster and its backup server must answer.
repmgrd stops on every node, each server stops and its data directory is renamed to
<data directory>.before-restore-<time> (kept, never deleted: remove it yourself once you are
satisfied), barman recovers into the configured primary, which promotes on a new timeline,
barman's WAL streaming restarts from there, tpa deploy clones the replicas from it and
registers every node with repmgr again, and a full backup is taken on the new timeline.

Examples:
  $ tpa backups acme --cluster main                      # what can be restored
  $ tpa restore acme --cluster main --time '2024-05-10 14:30:00Z' --into main-before-bug
  $ tpa restore acme --cluster main --latest --into copy --replicas 1
  $ tpa restore acme --cluster main --backup 20240510T020000 --into yesterday
  $ tpa restore acme --cluster main --time '2024-05-10 14:30:00Z' --in-place --yes
`,
    )
    .action(async (dir: string, opts: Opts) => {
      const json = opts.json === true;
      try {
        const target = await targetOf(opts);
        if (opts.inPlace && !opts.yes)
          throw new UsageError('--in-place replaces the cluster: confirm with --yes');
        const { restore } = await import('./index.ts');
        const out = await restore({
          dir,
          cluster: opts.cluster,
          target,
          events: eventSink(json),
          ...(opts.into !== undefined ? { into: opts.into } : {}),
          ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
          ...(opts.inPlace ? { inPlace: true } : {}),
        });
        if (json) printJson(out);
        else if (out.inPlace)
          process.stdout.write(
            [
              `restored ${out.cluster} in place (${out.target}, from backup ${out.backup}) in ${(out.durationMs / 1000).toFixed(1)} s; new full backup ${out.newBackup ?? '-'}`,
              ...(out.kept ?? []).map(
                (k) => `  ${k.node}: the data directory before the restore is kept in ${k.path}`,
              ),
              '',
            ].join('\n'),
          );
        else
          process.stdout.write(
            `restored ${out.cluster} (${out.target}, from backup ${out.backup}) into ${out.into}: ${out.nodes.join(', ')} in ${(out.durationMs / 1000).toFixed(1)} s\n`,
          );
      } catch (err) {
        setExit(reportError(err, json));
      }
    });
};
