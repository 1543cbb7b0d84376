/**
 * A plan for people (text lines, grouped by host and phase, with diffs) and for programs
 * (JSON without file contents, stdin or verifiers). Pure.
 */
import { PHASES, type Change, type Phase, type Plan, type Resource } from './types.ts';

export interface ChangeJson {
  host: string;
  phase: Phase;
  kind: Resource['kind'];
  /** path, package, unit, setting, role, database or action id */
  target: string;
  summary: string;
  diff?: string;
  notify?: string[];
}

export function targetOf(r: Resource): string {
  switch (r.kind) {
    case 'file':
    case 'directory':
      return r.path;
    case 'action':
      return r.id;
    default:
      return r.name;
  }
}

export function changeJson(c: Change): ChangeJson {
  return {
    host: c.host,
    phase: c.phase,
    kind: c.resource.kind,
    target: targetOf(c.resource),
    summary: c.summary,
    ...(c.diff ? { diff: c.diff } : {}),
    ...(c.notify?.length ? { notify: [...c.notify] } : {}),
  };
}

/** Phases whose changes were computed before earlier phases with changes have run. */
export function pendingPhases(plan: Plan): Set<Phase> {
  const out = new Set<Phase>();
  let earlier = false;
  for (const phase of PHASES) {
    if (earlier) out.add(phase);
    if (plan.hosts.some((h) => h.changes.some((c) => c.phase === phase))) earlier = true;
  }
  return out;
}

export function planJson(plan: Plan) {
  const pending = pendingPhases(plan);
  const changes = plan.hosts.flatMap((h) => h.changes);
  return {
    changes: changes.length,
    hosts: plan.hosts
      .filter((h) => h.changes.length > 0)
      .map((h) => ({ host: h.host, changes: h.changes.map(changeJson) })),
    pendingPhases: PHASES.filter((p) => pending.has(p) && changes.some((c) => c.phase === p)),
    refusals: plan.refusals,
    warnings: plan.warnings ?? [],
  };
}

export type LineStyle = 'host' | 'phase' | 'change' | 'add' | 'del' | 'hunk' | 'context' | 'note' | 'refusal';
export interface Line {
  style: LineStyle;
  text: string;
}

export interface RenderOptions {
  /** show at most this many diff lines per change (default 60) */
  maxDiffLines?: number;
}

export function renderPlan(plan: Plan, opts: RenderOptions = {}): Line[] {
  const max = opts.maxDiffLines ?? 60;
  const pending = pendingPhases(plan);
  const lines: Line[] = [];
  for (const r of plan.refusals) lines.push({ style: 'refusal', text: `refused: ${r.message}` });
  for (const w of plan.warnings ?? [])
    lines.push({ style: 'note', text: `warning: ${w.host ? `${w.host}: ` : ''}${w.message}` });
  for (const h of plan.hosts) {
    if (h.changes.length === 0) continue;
    lines.push({ style: 'host', text: `${h.host}` });
    for (const phase of PHASES) {
      const changes = h.changes.filter((c) => c.phase === phase);
      if (changes.length === 0) continue;
      lines.push({
        style: 'phase',
        text: `  ${phase}${pending.has(phase) ? ' (pending earlier phases: computed from the facts before they run)' : ''}`,
      });
      for (const c of changes) {
        const then = c.notify?.length ? ` -> ${c.notify.join(', ')}` : '';
        lines.push({ style: 'change', text: `    ${c.summary}${then}` });
        if (c.diff) lines.push(...diffLines(c.diff, max));
      }
    }
  }
  return lines;
}

function diffLines(diff: string, max: number): Line[] {
  const all = diff.split('\n');
  const shown = all.slice(0, max).map((l): Line => {
    const style: LineStyle =
      l.startsWith('+++') || l.startsWith('---')
        ? 'context'
        : l.startsWith('+')
          ? 'add'
          : l.startsWith('-')
            ? 'del'
            : l.startsWith('@@')
              ? 'hunk'
              : 'context';
    return { style, text: `      ${l}` };
  });
  if (all.length > max) shown.push({ style: 'note', text: `      ... ${all.length - max} more lines` });
  return shown;
}
