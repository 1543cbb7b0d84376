/**
 * barman's slot on a node that is no longer the primary. After a switchover repmgr turns the
 * former primary into a standby and its `barman` slot stays behind, inactive, holding WAL
 * back on that node (up to max_slot_wal_keep_size). Deploy drops it there; barman has its
 * slot on the new primary by then (create_slot = auto).
 */
import type { Resource } from '../../plan/types.ts';
import { BARMAN_SLOT } from './paths.ts';
import { psqlAsPostgres } from '../postgres/psql.ts';

export const STALE_SLOT_PROBE = 'barman:stale-slot';

/** prints 1 on a standby that has an inactive barman slot, 0 otherwise, nothing when postgres is down */
export function staleSlotProbeCommand(): string {
  return `${psqlAsPostgres({ sql: `SELECT count(*) FROM pg_replication_slots WHERE slot_name = '${BARMAN_SLOT}' AND NOT active AND pg_is_in_recovery()`, onErrorStop: false })} 2>/dev/null || true`;
}

export function dropStaleSlotResource(): Resource {
  return {
    kind: 'action',
    id: 'barman-drop-stale-slot',
    description: `drop barman's replication slot ${BARMAN_SLOT} left on this former primary`,
    // re-checked on the host: only an inactive slot on a standby is dropped
    command: psqlAsPostgres({
      sql: `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${BARMAN_SLOT}' AND NOT active AND pg_is_in_recovery()`,
      onErrorStop: false,
    }),
    needed: (f) => f.probes[STALE_SLOT_PROBE]?.trim() === '1',
  };
}
