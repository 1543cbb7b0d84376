/**
 * Where a node's pgbouncer sends clients now (the route section of observeSections()), read
 * into NodeObservation under `pgbouncer`: the pgbouncer-write check names it when a write
 * fails, and `tpa status` shows it.
 */
import { lastLine, type NodeObservation, type Section } from '../../../checks/kit.ts';

export interface PgbouncerObservation {
  /** `host=... port=...` from databases.ini: where pgbouncer sends every database */
  route?: string;
  routeHost?: string;
  error?: string;
}

declare module '../../../checks/observation.ts' {
  interface NodeObservation {
    pgbouncer?: PgbouncerObservation;
  }
}

export const ROUTE_SECTION = 'pgbouncer-route';

function hostOf(conninfo: string): string | undefined {
  return /(?:^|\s)host=([^\s]+)/.exec(conninfo)?.[1];
}

/** nothing when the route was not asked for */
export function readPgbouncerSections(s: Record<string, Section>): Pick<NodeObservation, 'pgbouncer'> {
  const route = s[ROUTE_SECTION];
  if (!route) return {};
  const line = route.exitCode === 0 ? route.output.split('\n')[0]?.trim() : undefined;
  const host = line ? hostOf(line) : undefined;
  return {
    pgbouncer: {
      ...(line ? { route: line } : {}),
      ...(host ? { routeHost: host } : {}),
      ...(route.exitCode !== 0 ? { error: lastLine(route.output) } : {}),
    },
  };
}
