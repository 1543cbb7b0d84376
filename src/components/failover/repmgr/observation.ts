/**
 * What `repmgr cluster show` said on a node (the sections of observeSections()), read into
 * NodeObservation under `repmgr` for the repmgr-cluster-show check.
 */
import { errorLine, type NodeObservation, type Section } from '../../../checks/kit.ts';

export interface RepmgrRow {
  id: number;
  name: string;
  role: string;
  status: string;
  upstream: string;
}

export interface RepmgrObservation {
  ok: boolean;
  /**
   * The table alone: its status column already says when a node cannot be reached (`?`) or
   * runs in another role than recorded (`!`), so `--csv` (a second run that connects to every
   * node again) adds nothing
   */
  table: RepmgrRow[];
  error?: string;
}

declare module '../../../checks/observation.ts' {
  interface NodeObservation {
    repmgr?: RepmgrObservation;
  }
}

export const TABLE_SECTION = 'repmgr-table';

/** `repmgr cluster show` table: a header line of column names, a rule, then one row per node. */
export function parseRepmgrTable(text: string): RepmgrRow[] {
  const lines = text.split('\n').filter((l) => l.includes('|'));
  if (lines.length === 0) return [];
  const header = lines[0]!.split('|').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [iId, iName, iRole, iStatus, iUp] = ['id', 'name', 'role', 'status', 'upstream'].map(col);
  if ([iId, iName, iRole, iStatus, iUp].some((i) => i === undefined || i < 0)) return [];
  const rows: RepmgrRow[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split('|').map((c) => c.trim());
    const id = Number(cells[iId!]);
    if (!Number.isInteger(id)) continue;
    rows.push({
      id,
      name: cells[iName!] ?? '',
      role: cells[iRole!] ?? '',
      status: cells[iStatus!] ?? '',
      upstream: cells[iUp!] ?? '',
    });
  }
  return rows;
}

/** nothing when the section was not asked for (status does not ask) */
export function readRepmgrSections(s: Record<string, Section>): Pick<NodeObservation, 'repmgr'> {
  const table = s[TABLE_SECTION];
  if (!table) return {};
  const rows = parseRepmgrTable(table?.output ?? '');
  // repmgr exits non-zero when any node is unreachable; its table still says which
  const ok = rows.length > 0;
  return {
    repmgr: {
      ok,
      table: rows,
      ...(ok ? {} : { error: errorLine(table.output, 'repmgr') || `exit code ${table.exitCode}` }),
    },
  };
}
