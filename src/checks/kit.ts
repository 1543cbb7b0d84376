/**
 * What a `tpa test` check is written with: its result, its description, and the helpers that
 * make the usual shapes (one result per node, a service that must be active). A failover
 * manager or pooler declares the checks it answers for in its own folder with this module,
 * the one of checks/ that components/ may import (src/architecture.test.ts): it and what it
 * imports stay free of components/, so no cycle comes back through a registry.
 */
import type { ClusterView } from './cluster-view.ts';

export type { ClusterView } from './cluster-view.ts';
export { expectedUpstream } from './cluster-view.ts';
export type { NodeObservation, Section } from './observation.ts';
export { errorLine, lastLine } from './observation.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  /** stable id, e.g. `replica-streaming` */
  check: string;
  cluster: string;
  node?: string;
  status: CheckStatus;
  detail: string;
}

export interface CheckDescription {
  id: string;
  title: string;
}

/**
 * A check: its results for one cluster. `E` is the evidence beyond the observations (marker
 * rows, thresholds) that only the generic checks read; a component's checks judge the view.
 */
export interface Check<E = unknown> extends CheckDescription {
  run: (view: ClusterView, ev: E) => CheckResult[];
}

export function result(
  check: string,
  view: ClusterView,
  node: string | undefined,
  status: CheckStatus,
  detail: string,
): CheckResult {
  return { check, cluster: view.cluster.name, ...(node !== undefined ? { node } : {}), status, detail };
}

/** one result per node: skip when the node could not be reached */
export function perNode<E = unknown>(
  id: string,
  title: string,
  fn: (view: ClusterView, node: string, ev: E) => [CheckStatus, string],
): Check<E> {
  return {
    id,
    title,
    run: (view, ev) =>
      view.nodes.map((n) => {
        if (view.unreachable(n.name) !== undefined)
          return result(id, view, n.name, 'skip', 'node unreachable');
        const [status, detail] = fn(view, n.name, ev);
        return result(id, view, n.name, status, detail);
      }),
  };
}

/** per node: the systemd unit is active */
export function serviceCheck(id: string, title: string, unitOf: (view: ClusterView) => string): Check {
  return perNode(id, title, (view, node) => {
    const unit = unitOf(view);
    const state = view.obs(node)?.services[unit];
    return state === 'active' ? ['pass', `${unit} active`] : ['fail', `${unit} is ${state ?? 'unknown'}`];
  });
}
