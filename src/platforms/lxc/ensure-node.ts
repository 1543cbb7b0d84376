/**
 * One node brought to its described state: created when missing, config and managed files
 * converged when present, started (or thawed) when not running, and answering SSH. Every
 * failure names the node and the step it happened in.
 */
import { OperationError } from '../../core/errors.ts';
import type { EventSink } from '../../core/events.ts';
import { containerState } from './containers.ts';
import { sh as cmd } from '../../core/shell.ts';
import { failure, type HostShell } from './host.ts';
import { convergeConfig, convergeFiles, createNode, type NewNode } from './node.ts';
import { waitForSshBanner } from './ssh-wait.ts';

export interface EnsureNode extends NewNode {
  events: EventSink;
  sshWaitMs: number;
}

/** Returns the changes made to the node; throws an OperationError naming node and step. */
export async function ensureNode(sh: HostShell, n: EnsureNode): Promise<string[]> {
  const { node, container, settings, events } = n;
  const changes: string[] = [];
  let step = 'inspect';
  try {
    let state = await containerState(sh, container);
    if (state === undefined) {
      step = 'create';
      await createNode(sh, n);
      changes.push(`${node}: created ${container} at ${settings.address}`);
      events({
        kind: 'task',
        host: node,
        task: `container ${container}`,
        status: 'changed',
        detail: `created, ${settings.address}`,
      });
      state = 'STOPPED';
    } else {
      step = 'lxc config';
      const c = await convergeConfig(sh, node, container, settings);
      step = 'files';
      c.push(...(await convergeFiles(sh, node, container, n.baseRootfs, n.files)));
      changes.push(...c);
      events({
        kind: 'task',
        host: node,
        task: `container ${container}`,
        status: c.length ? 'changed' : 'ok',
        ...(c.length ? { detail: c.join('; ') } : {}),
      });
    }

    if (state === 'FROZEN') {
      step = 'thaw';
      await sh.run(cmd`lxc-unfreeze -n ${container}`, { node, step });
      changes.push(`${node}: thawed`);
    } else if (state !== 'RUNNING') {
      step = 'start';
      await sh.run(cmd`lxc-start -n ${container} -d`, {
        node,
        step,
        hint: `see why with: lxc-start -n ${container} -F -l DEBUG`,
      });
      changes.push(`${node}: started`);
      events({ kind: 'task', host: node, task: 'start', status: 'changed' });
    }

    step = 'wait for sshd';
    if (!(await waitForSshBanner(settings.address, 22, n.sshWaitMs))) {
      // a boot that stalled (systemd waiting forever) is cured by booting again, once
      events({
        kind: 'warning',
        host: node,
        message: `sshd did not answer within ${n.sshWaitMs / 1000} s; restarting the container once`,
      });
      step = 'restart';
      await sh.run(cmd`lxc-stop -k -n ${container}`, { node, step }, { timeoutMs: 60_000 });
      await sh.run(cmd`lxc-start -n ${container} -d`, { node, step });
      changes.push(`${node}: restarted (sshd did not answer)`);
      step = 'wait for sshd';
      if (!(await waitForSshBanner(settings.address, 22, n.sshWaitMs))) {
        throw new OperationError(
          `${node}: sshd at ${settings.address}:22 did not answer within ${n.sshWaitMs / 1000} s, even after a restart`,
          {
            host: node,
            step,
            hint: `look inside: lxc-attach -n ${container} -- systemctl status ssh (and journalctl -b)`,
          },
        );
      }
    }
    events({ kind: 'task', host: node, task: 'sshd answers', status: 'ok', detail: settings.address });
    return changes;
  } catch (e) {
    events({ kind: 'task', host: node, task: step, status: 'failed' });
    throw failure(e, {
      node,
      step,
      hint: `fix the cause and run provision again; or remove the node's container (lxc-destroy -n ${container}) to have it made anew`,
    });
  }
}

/** Every node's failure, not just the first: one error for one, a summary naming all for more. */
export function throwFailures(outcomes: PromiseSettledResult<unknown>[]): void {
  const errors = outcomes
    .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
    .map((o) => (o.reason instanceof OperationError ? o.reason : failure(o.reason, { step: 'provision' })));
  if (errors.length === 0) return;
  if (errors.length === 1) throw errors[0]!;
  const first = errors[0]!;
  throw new OperationError(
    `${errors.length} nodes failed:\n${errors.map((e) => `  ${e.message.split('\n')[0]}`).join('\n')}`,
    {
      ...(first.host !== undefined ? { host: first.host } : {}),
      ...(first.step !== undefined ? { step: first.step } : {}),
      ...(first.hint !== undefined ? { hint: first.hint } : {}),
    },
  );
}
