/**
 * The end of every operation that changes a group's shape (add-replica, remove-node,
 * add-cluster, remove-cluster): config.yml already says what the group is (edited and
 * committed), and provision then deploy make the machines and the nodes so. A failure says
 * that config.yml has the change and how to continue: both steps converge when run again.
 */
import type { EventSink } from '../core/events.ts';
import { OperationError } from '../core/errors.ts';
import { provision } from './provision/index.ts';
import { deploy } from './deploy/index.ts';

export interface Converged {
  provisionMs: number;
  deployMs: number;
  /** changes deploy made, on every host */
  deployChanges: number;
}

export async function convergeAfterEdit(
  dir: string,
  events: EventSink,
  what: { operation: string; change: string; commit: string | null; undo?: string },
): Promise<Converged> {
  let step = 'provision';
  try {
    const p0 = Date.now();
    await provision({ dir, events });
    const provisionMs = Date.now() - p0;
    step = 'deploy';
    const d0 = Date.now();
    const d = await deploy({ dir, events });
    return { provisionMs, deployMs: Date.now() - d0, deployChanges: d.changes };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const commit = what.commit ? `commit ${what.commit.slice(0, 7)}` : 'already there';
    throw new OperationError(
      `${what.change} is in config.yml (${commit}), but the ${step} after it failed: ${why}`,
      {
        step: `${what.operation}: ${step}`,
        hint:
          'fix the cause and run tpa provision DIR, then tpa deploy DIR (both continue from where this stopped)' +
          (what.undo ? `; or undo it with ${what.undo}` : ''),
      },
    );
  }
}
