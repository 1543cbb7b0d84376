/**
 * Desired state: every component's resources for every host, merged per phase in registry
 * order. Components are pure, so this is too; it lives beside the engine because plan/ knows
 * nothing of components.
 */
import { OperationError } from '../core/errors.ts';
import { hostsInScope, type Component, type DeployContext } from '../components/component.ts';
import { PHASES, type DesiredHost, type Resource } from '../plan/types.ts';
import { emptyRequest, requestFor, type FactRequest } from './fact-script.ts';

function identity(r: Resource): string {
  switch (r.kind) {
    case 'package':
      return `package ${r.name}`;
    case 'file':
    case 'directory':
      return `path ${r.path}`;
    case 'service':
      return `service ${r.name}`;
    case 'pg-setting':
      return `setting ${r.name}`;
    case 'pg-role':
      return `role ${r.name}`;
    case 'pg-database':
      return `database ${r.name}`;
    case 'action':
      return `action ${r.id}`;
  }
}

/** equal as data (an action's `needed` function is part of its id's contract, not compared) */
function sameResource(a: Resource, b: Resource): boolean {
  const plain = (r: Resource) =>
    JSON.stringify(r, (_k, v: unknown) => (typeof v === 'function' ? undefined : v));
  return plain(a) === plain(b);
}

export function desiredState(components: readonly Component[], ctx: DeployContext): DesiredHost[] {
  return hostsInScope(ctx).map((host) => {
    const byPhase = new Map(PHASES.map((p) => [p, [] as Resource[]]));
    const owner = new Map<string, { component: string; resource: Resource }>();
    for (const c of components) {
      if (!c.appliesTo(host, ctx)) continue;
      for (const { phase, resources } of c.desired(host, ctx)) {
        const list = byPhase.get(phase);
        if (!list) throw new OperationError(`component ${c.name} uses an unknown phase ${String(phase)}`);
        for (const r of resources) {
          const id = identity(r);
          const prev = owner.get(id);
          if (prev) {
            if (sameResource(prev.resource, r)) continue;
            throw new OperationError(
              `${host.name}: ${id} is declared differently by ${prev.component} and ${c.name}`,
              { host: host.name, hint: 'one component must own it; this is a bug in tpa' },
            );
          }
          owner.set(id, { component: c.name, resource: r });
          list.push(r);
        }
      }
    }
    return {
      host: host.name,
      role: host.role,
      ...(host.cluster !== undefined ? { cluster: host.cluster } : {}),
      ...(host.upstream !== undefined ? { upstream: host.upstream } : {}),
      address: host.address,
      phases: PHASES.map((phase) => ({ phase, resources: byPhase.get(phase) ?? [] })).filter(
        (p) => p.resources.length > 0,
      ),
    };
  });
}

/** Fact requests per host: what the desired resources refer to, plus the components' probes. */
export function factRequests(
  components: readonly Component[],
  ctx: DeployContext,
  desired: DesiredHost[],
): Record<string, FactRequest> {
  const out: Record<string, FactRequest> = {};
  for (const host of hostsInScope(ctx)) {
    const probes: Record<string, string> = {};
    for (const c of components) {
      if (c.probes && c.appliesTo(host, ctx)) Object.assign(probes, c.probes(host, ctx));
    }
    const d = desired.find((x) => x.host === host.name);
    out[host.name] = d ? requestFor(d, probes) : { ...emptyRequest(), probes };
  }
  return out;
}
