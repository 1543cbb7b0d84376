/**
 * What a restore is asked and what it reports, apart from index.ts so that in-place.ts, which
 * index.ts calls, can name them without importing index.ts back (a cycle).
 */
import type { EventSink } from '../../core/events.ts';
import type { RestoreTarget } from '../../components/barman/recovery.ts';

export interface RestoreRequest {
  dir: string;
  cluster: string;
  target: RestoreTarget;
  /** the new cluster to restore into */
  into?: string;
  /** replicas of the new cluster, cloned from the restored primary (default 0) */
  replicas?: number;
  inPlace?: boolean;
  events: EventSink;
}

export interface RestoreReport {
  ok: true;
  cluster: string;
  into: string;
  nodes: string[];
  backup: string;
  target: string;
  /** restored over the cluster itself */
  inPlace?: boolean;
  /** data directories kept aside by an in-place restore */
  kept?: { node: string; path: string }[];
  /** the full backup taken after an in-place restore */
  newBackup?: string | undefined;
  durationMs: number;
  /** seconds per step: recover (barman), deploy, backup */
  timings: Record<string, number>;
}
