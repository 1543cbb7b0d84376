/**
 * Restore targets: what the user asked for (--time, --lsn, --backup, --latest), checked against
 * what barman holds, before anything changes. A target outside the recoverable range is
 * refused with the range; otherwise the base backup to start from and barman's recovery
 * options are chosen. Pure.
 *
 * The recoverable range runs from the end of the oldest complete backup (a backup is only
 * consistent once its end is replayed) to the last WAL file barman has archived.
 */
import type { BackupDetail } from './output.ts';

export type RestoreTarget =
  | { kind: 'time'; time: Date }
  | { kind: 'lsn'; lsn: string }
  | { kind: 'backup'; id: string }
  | { kind: 'latest' };

export interface RecoverableRange {
  /** complete backups, oldest first */
  backups: BackupDetail[];
  /** when the last archived WAL file reached barman (epoch seconds) */
  lastWalEpoch: number;
  /** the last archived WAL file's name */
  lastWal: string;
}

export type RecoveryPlan =
  | { ok: true; backup: BackupDetail; options: string[]; description: string }
  | {
      ok: false;
      message: string;
      range: string;
      /** 'after': the archive may only be behind; closing the current WAL file may cover it */
      reason: 'no-backup' | 'unknown-backup' | 'before' | 'after';
    };

export class TargetSyntaxError extends Error {}

/**
 * ISO 8601 date and time; without a zone it is UTC (the hosts run UTC). Refuses anything
 * Date.parse would guess at.
 */
export function parseTargetTime(text: string): Date {
  const t = text.trim();
  const m =
    /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(t);
  if (!m) throw new TargetSyntaxError(`"${text}" is not a date and time like 2024-05-10T14:30:00Z`);
  let zone = m[3] ?? 'Z';
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const d = new Date(`${m[1]}T${m[2]}${zone.toUpperCase()}`);
  if (Number.isNaN(d.getTime())) throw new TargetSyntaxError(`"${text}" is not a valid date and time`);
  return d;
}

/** `0/3000028` -> 0x3000028n */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text.trim());
  if (!m) throw new TargetSyntaxError(`"${text}" is not an LSN like 0/3000028`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

const WAL_SEGMENT = 16n * 1024n * 1024n;

/** the LSN just past the end of a WAL segment file (16 MB segments) */
export function walEndLsn(walName: string): bigint {
  const log = BigInt(`0x${walName.slice(8, 16)}`);
  const seg = BigInt(`0x${walName.slice(16, 24)}`);
  return (log << 32n) + (seg + 1n) * WAL_SEGMENT;
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** PostgreSQL reads this as a timestamptz: UTC with an explicit offset */
export function pgTimestamp(d: Date): string {
  return `${d.toISOString().replace('T', ' ').replace('Z', '')}+00:00`;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

export function describeRange(r: RecoverableRange): string {
  const done = r.backups.filter((b) => b.status === 'DONE' && b.endEpoch !== undefined);
  if (done.length === 0) return 'no complete backup';
  const first = done[0]!;
  return (
    `from ${iso(first.endEpoch!)} (end of backup ${first.id}, LSN ${first.endLsn ?? '?'}) ` +
    `to ${iso(r.lastWalEpoch)} (last archived WAL ${r.lastWal}, LSN ${formatLsn(walEndLsn(r.lastWal))})`
  );
}

export function planRecovery(target: RestoreTarget, r: RecoverableRange): RecoveryPlan {
  const done = r.backups
    .filter((b) => b.status === 'DONE' && b.endEpoch !== undefined)
    .sort((a, b) => a.endEpoch! - b.endEpoch!);
  const range = describeRange({ ...r, backups: done });
  const refuse = (message: string, reason: Extract<RecoveryPlan, { ok: false }>['reason']): RecoveryPlan => ({
    ok: false,
    message,
    range,
    reason,
  });
  if (done.length === 0) return refuse('there is no complete backup to restore from', 'no-backup');

  switch (target.kind) {
    case 'latest': {
      const b = done[done.length - 1]!;
      return { ok: true, backup: b, options: [], description: `backup ${b.id} and every archived WAL file` };
    }
    case 'backup': {
      const b = done.find((x) => x.id === target.id);
      if (!b)
        return refuse(
          `there is no complete backup ${target.id}; backups: ${done.map((x) => x.id).join(', ')}`,
          'unknown-backup',
        );
      return {
        ok: true,
        backup: b,
        options: ['--target-immediate'],
        description: `backup ${b.id} as it was when it ended (${iso(b.endEpoch!)})`,
      };
    }
    case 'time': {
      const t = target.time.getTime() / 1000;
      if (t <= done[0]!.endEpoch!)
        return refuse(`${target.time.toISOString()} is before the oldest backup ends`, 'before');
      if (t > r.lastWalEpoch)
        return refuse(`${target.time.toISOString()} is after the last archived WAL`, 'after');
      const b = [...done].reverse().find((x) => x.endEpoch! < t)!;
      return {
        ok: true,
        backup: b,
        options: ['--target-time', pgTimestamp(target.time)],
        description: `backup ${b.id}, then WAL up to ${target.time.toISOString()}`,
      };
    }
    case 'lsn': {
      const lsn = parseLsn(target.lsn);
      const ends = done.map((b) => (b.endLsn ? parseLsn(b.endLsn) : undefined));
      if (ends[0] === undefined || lsn < ends[0])
        return refuse(`LSN ${target.lsn} is before the oldest backup ends`, 'before');
      if (lsn >= walEndLsn(r.lastWal))
        return refuse(`LSN ${target.lsn} is after the last archived WAL`, 'after');
      let i = done.length - 1;
      while (i > 0 && (ends[i] === undefined || ends[i]! > lsn)) i--;
      const b = done[i]!;
      return {
        ok: true,
        backup: b,
        options: ['--target-lsn', formatLsn(lsn)],
        description: `backup ${b.id}, then WAL up to LSN ${formatLsn(lsn)}`,
      };
    }
  }
}
