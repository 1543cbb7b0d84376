/**
 * The differ: desired resources against gathered facts, per host and phase. Pure.
 */
import { createTwoFilesPatch } from 'diff';
import { createHash } from 'node:crypto';
import { sh } from '../core/shell.ts';
import { needsRestart, settingMatches } from './pg-values.ts';
import { normaliseAttributes } from './sql.ts';
import { refusals } from './refusals.ts';
import type { Change, DesiredHost, HandlerName, HostFacts, Phase, Plan, Resource } from './types.ts';

export interface DiffOptions {
  /** only these phases (deploy plans one phase at a time); default all */
  phases?: readonly Phase[];
}

/** handlers a failed deploy could not run, one per line; the next deploy runs them */
export const PENDING_HANDLERS_FILE = '/var/lib/tpa/pending-handlers';

export function sha256(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

export function diff(desired: DesiredHost[], facts: Record<string, HostFacts>, opts: DiffOptions = {}): Plan {
  const wanted = opts.phases ? new Set(opts.phases) : undefined;
  const warnings: { host: string; message: string }[] = [];
  const hosts = desired.map((d) => {
    const f = facts[d.host];
    const changes: Change[] = [];
    const leftOver = f?.reachable ? pendingHandlersChange(d, f, wanted) : null;
    if (leftOver) changes.push(leftOver);
    if (f?.reachable) {
      for (const { phase, resources } of d.phases) {
        if (wanted && !wanted.has(phase)) continue;
        for (const r of resources) {
          const c = diffResource(d.host, phase, r, f);
          if (c) changes.push(c);
          const w = r.kind === 'pg-setting' ? overridden(r, f) : undefined;
          if (w) warnings.push({ host: d.host, message: w });
        }
      }
    }
    return { host: d.host, changes };
  });
  return { hosts, refusals: refusals(desired, facts), ...(warnings.length ? { warnings } : {}) };
}

/**
 * Where a host's last phase runs the handlers an earlier deploy left pending: after every
 * file of this deploy is written, so that a restart left over from a failed deploy reads the
 * configuration config.yml says now, not the one that failed.
 */
export const PENDING_HANDLERS_ID = 'tpa-pending-handlers';

function pendingHandlersChange(d: DesiredHost, f: HostFacts, wanted: Set<Phase> | undefined): Change | null {
  const handlers = f.pendingHandlers ?? [];
  const phase = d.phases.at(-1)?.phase ?? 'common';
  if (handlers.length === 0 || (wanted && !wanted.has(phase))) return null;
  const resource: Resource = {
    kind: 'action',
    id: PENDING_HANDLERS_ID,
    description: `run what an earlier deploy left pending: ${handlers.join(', ')}`,
    command: sh`rm -f ${PENDING_HANDLERS_FILE}`,
    needed: () => true,
    notify: handlers,
  };
  return change(d.host, phase, resource, resource.description, { notify: handlers });
}

function overridden(r: Extract<Resource, { kind: 'pg-setting' }>, f: HostFacts): string | undefined {
  const have = f.postgres?.settings[r.name];
  if (!have?.sourcefile?.endsWith('/postgresql.auto.conf') || settingMatches(r.value, have, r.name))
    return undefined;
  return `${r.name} is ${have.setting} by ALTER SYSTEM (postgresql.auto.conf), which overrides tpa's ${r.value}; run ALTER SYSTEM RESET ${r.name} to let config.yml decide`;
}

function change(
  host: string,
  phase: Phase,
  resource: Resource,
  summary: string,
  extra: Partial<Change> = {},
): Change {
  return { host, phase, summary, resource, ...extra };
}

export function diffResource(host: string, phase: Phase, r: Resource, f: HostFacts): Change | null {
  switch (r.kind) {
    case 'package': {
      const have = f.packages[r.name];
      if (have === undefined)
        return change(host, phase, r, `install ${r.name}${r.version ? `=${r.version}` : ''}`);
      if (r.version && !versionMatches(r.version, have)) {
        return change(host, phase, r, `install ${r.name}=${r.version} (installed: ${have})`);
      }
      return null;
    }
    case 'file':
      return diffFile(host, phase, r, f);
    case 'directory': {
      const have = f.directories[r.path];
      if (!have) return change(host, phase, r, `create directory ${r.path}`);
      const what = ownership(have, r);
      return what.length ? change(host, phase, r, `update directory ${r.path} (${what.join(', ')})`) : null;
    }
    case 'service': {
      const have = f.services[r.name] ?? { active: false, enabled: false };
      const ops: string[] = [];
      if (r.state === 'running' && !have.active) ops.push('start');
      if (r.state === 'stopped' && have.active) ops.push('stop');
      if (r.enabled && !have.enabled) ops.push('enable');
      if (!r.enabled && have.enabled) ops.push('disable');
      return ops.length ? change(host, phase, r, `${ops.join(' and ')} ${r.name}`) : null;
    }
    case 'pg-setting':
      return diffSetting(host, phase, r, f);
    case 'pg-role': {
      const pg = f.postgres;
      // roles live in the catalog, which a standby receives from its primary
      if (pg?.inRecovery) return null;
      const have = pg?.roles[r.name];
      if (!have) return change(host, phase, r, `create role ${r.name}`);
      const what: string[] = [];
      if ((have.verifier ?? '') !== r.verifier) what.push('password');
      const a = normaliseAttributes(have.attributes).join(' ');
      const b = normaliseAttributes(r.attributes).join(' ');
      if (a !== b) what.push(`attributes ${a || '(none)'} -> ${b || '(none)'}`);
      const missing = (r.inRoles ?? []).filter((g) => !(have.memberOf ?? []).includes(g));
      if (missing.length) what.push(`grant ${missing.join(', ')}`);
      return what.length ? change(host, phase, r, `alter role ${r.name} (${what.join(', ')})`) : null;
    }
    case 'pg-database': {
      const pg = f.postgres;
      if (pg?.inRecovery) return null;
      if (!pg || !pg.databases.includes(r.name)) {
        return change(host, phase, r, `create database ${r.name} owned by ${r.owner}`);
      }
      const owner = pg.databaseOwners?.[r.name];
      if (owner !== undefined && owner !== r.owner) {
        return change(host, phase, r, `change owner of database ${r.name}: ${owner} -> ${r.owner}`);
      }
      return null;
    }
    case 'action':
      return r.needed(f) ? change(host, phase, r, r.description, r.notify ? { notify: r.notify } : {}) : null;
  }
}

/** apt versions: exact, or a prefix ending in '*' ('15.*') */
function versionMatches(want: string, have: string): boolean {
  return want.endsWith('*') ? have.startsWith(want.slice(0, -1)) : want === have;
}

function ownership(
  have: { mode: number; owner: string; group: string },
  want: { mode: number; owner: string; group: string },
): string[] {
  const what: string[] = [];
  if ((have.mode & 0o7777) !== (want.mode & 0o7777))
    what.push(`mode ${octal(have.mode)} -> ${octal(want.mode)}`);
  if (have.owner !== want.owner || have.group !== want.group) {
    what.push(`owner ${have.owner}:${have.group} -> ${want.owner}:${want.group}`);
  }
  return what;
}

function diffFile(
  host: string,
  phase: Phase,
  r: Extract<Resource, { kind: 'file' }>,
  f: HostFacts,
): Change | null {
  const have = f.files[r.path];
  const notify = r.notify?.length ? { notify: r.notify } : {};
  if (!have) {
    const shown = r.secret ? {} : { diff: unified(r.path, '', r.content) };
    return change(host, phase, r, `create ${r.path}${r.secret ? ' (secret)' : ''}`, { ...shown, ...notify });
  }
  const contentChanged = have.sha256 !== sha256(r.content);
  const what = ownership(have, r);
  if (!contentChanged && what.length === 0) return null;
  let shown: Partial<Change> = {};
  if (contentChanged) {
    if (r.secret) what.unshift('content changed (secret)');
    else if (have.content !== undefined) shown = { diff: unified(r.path, have.content, r.content) };
    else what.unshift('content changed');
  }
  return change(host, phase, r, `update ${r.path}${what.length ? ` (${what.join(', ')})` : ''}`, {
    ...shown,
    ...notify,
  });
}

function unified(path: string, before: string, after: string): string {
  const patch = createTwoFilesPatch(path, path, before, after, 'current', 'desired', { context: 3 });
  // drop the "Index:"/"====" preamble: the header lines say enough
  return patch
    .split('\n')
    .filter((l) => !l.startsWith('Index: ') && !/^=+$/.test(l))
    .join('\n')
    .trimEnd();
}

function diffSetting(
  host: string,
  phase: Phase,
  r: Extract<Resource, { kind: 'pg-setting' }>,
  f: HostFacts,
): Change | null {
  const pg = f.postgres;
  // not running: the configuration file carries the value and the next start reads it
  if (!pg) return null;
  const have = pg.settings[r.name];
  // unknown to the server (an extension's setting before it is loaded): nothing to compare
  if (!have || have.context === 'internal') return null;
  const matches = settingMatches(r.value, have, r.name);
  if (matches && !have.pendingRestart) return null;
  // ALTER SYSTEM wins over tpa's file: reloading or restarting would never converge
  if (!matches && have.sourcefile?.endsWith('/postgresql.auto.conf')) return null;
  const restart = needsRestart(have.context) || have.pendingRestart;
  const handler: HandlerName[] = r.unit ? [`${restart ? 'restart' : 'reload'}:${r.unit}`] : [];
  const summary = matches
    ? `restart to apply ${r.name} = ${r.value} (pending restart)`
    : `set ${r.name}: ${have.setting}${have.unit ? ` (${have.unit})` : ''} -> ${r.value} (${restart ? 'restart' : 'reload'})`;
  return change(host, phase, r, summary, handler.length ? { notify: handler } : {});
}

/** how many changes a plan holds */
export function countChanges(plan: Plan): number {
  return plan.hosts.reduce((n, h) => n + h.changes.length, 0);
}
