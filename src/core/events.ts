/**
 * Progress is a typed event stream. The core emits; the CLI renders for a terminal or
 * as JSON lines; the web UI streams the same events. No console.log in the core.
 */

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export type TpaEvent =
  | { kind: 'phase-started'; phase: string; hosts?: string[] }
  | { kind: 'phase-finished'; phase: string; ok: boolean; durationMs: number }
  | { kind: 'task'; host: string; task: string; status: TaskStatus; detail?: string }
  | { kind: 'output'; host: string; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'info'; message: string; host?: string }
  | { kind: 'warning'; message: string; host?: string }
  | { kind: 'done'; ok: boolean; summary: string }
  /** how long a step took (facts, one change): the profile behind the phase times */
  | { kind: 'timing'; what: string; durationMs: number; host?: string };

export type EventKind = TpaEvent['kind'];
export type EventSink = (event: TpaEvent) => void;

export const nullSink: EventSink = () => {};

/** Collects events in memory; handy in tests and for --json summaries. */
export function collectingSink(): EventSink & { events: TpaEvent[] } {
  const events: TpaEvent[] = [];
  const sink = ((e: TpaEvent) => {
    events.push(e);
  }) as EventSink & { events: TpaEvent[] };
  sink.events = events;
  return sink;
}
