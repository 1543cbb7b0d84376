/**
 * Before a restore changes anything: make the archive current (close the primary's WAL file
 * so everything written until now can be replayed), read barman's backups and WAL catalogue,
 * and check the target against the recoverable range. A target outside it is refused (exit
 * 2) with the range printed.
 */
import { UsageError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { lastArchivedWal, parseXlogDb } from '../../components/barman/output.ts';
import { serverHome } from '../../components/barman/paths.ts';
import { closeWalCommand } from '../../components/barman/scripts.ts';
import { planRecovery, type RecoveryPlan, type RestoreTarget } from '../../components/barman/recovery.ts';
import type { Transport } from '../../transport/transport.ts';
import { sh } from '../../core/shell.ts';
import { onBackupHost, serverBackups, type BackupTarget } from '../backup/barman-client.ts';

export type AcceptedPlan = Extract<RecoveryPlan, { ok: true }>;

/** the primary barman streams from now, as its configuration says */
async function streamingFrom(t: Transport, server: string): Promise<string | undefined> {
  const r = await onBackupHost(
    t,
    sh`sed -n 's/^conninfo *= *.*host=\\([^ ]*\\).*/\\1/p' ${`/etc/barman.d/${server}.conf`} | head -n1`,
    { step: 'restore: read barman configuration' },
  );
  return r.stdout.trim() || undefined;
}

/** the plan from barman's catalogue as it is now */
async function planNow(t: Transport, server: string, wanted: RestoreTarget): Promise<RecoveryPlan> {
  const { details } = await serverBackups(t, server, 'restore: list backups');
  const xlog = await onBackupHost(t, sh`cat ${`${serverHome(server)}/wals/xlog.db`}`, {
    step: 'restore: read the WAL catalogue',
  });
  const last = lastArchivedWal(parseXlogDb(xlog.stdout));
  return planRecovery(wanted, {
    backups: details,
    lastWalEpoch: last?.epoch ?? 0,
    lastWal: last?.name ?? '000000010000000000000000',
  });
}

/**
 * Closing the primary's WAL file waits for barman to archive it (seconds to a minute), so it is
 * skipped when the catalogue as it is already decides: a target before every backup (or no
 * backup) is refused, and an LSN inside the archive is covered exactly. A time is not: the last
 * archived file may end before a time earlier than its archiving.
 */
export async function checkRestoreTarget(
  t: Transport,
  target: BackupTarget,
  wanted: RestoreTarget,
  events?: EventSink,
): Promise<AcceptedPlan> {
  const server = target.cluster.name;
  let plan = await planNow(t, server, wanted);
  const decided = plan.ok ? wanted.kind === 'lsn' : plan.reason !== 'after';
  if (!decided) {
    const primary = await streamingFrom(t, server);
    if (primary) {
      // best effort: with the primary down the archive ends where it ends, and the range says so
      const closed = await onBackupHost(t, closeWalCommand(server, primary, 60), {
        step: 'restore: archive the current WAL',
        timeoutMs: 120_000,
      });
      if (closed.exitCode !== 0) {
        events?.({
          kind: 'warning',
          host: t.host,
          message: `could not archive the current WAL of ${server} (${closed.stderr.trim().split('\n').at(-1) ?? ''}); the range ends at the last WAL archived`,
        });
      }
    }
    plan = await planNow(t, server, wanted);
  }
  if (!plan.ok) {
    throw new UsageError(
      `restore refused, nothing was changed: ${plan.message}`,
      `recoverable range of ${server}: ${plan.range}`,
    );
  }
  return plan;
}
