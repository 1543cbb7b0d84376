/**
 * The confirmation a destructive command asks for: --yes, or a yes on the terminal. Without a
 * terminal and without --yes it refuses (exit 2) before anything changes.
 */
import { UsageError } from '../core/errors.ts';

export interface Confirmation {
  /** --yes: no question */
  yes?: boolean;
  /** asks on the terminal; absent when there is none (or the output is JSON) */
  confirm?: (question: string) => Promise<boolean>;
}

/** `what`: "remove-node destroys a machine", for the refusal without a terminal */
export async function requireConfirmation(c: Confirmation, what: string, question: string): Promise<void> {
  if (c.yes) return;
  if (!c.confirm) throw new UsageError(`${what} and needs a confirmation`, 'pass --yes to confirm');
  if (!(await c.confirm(question)))
    throw new UsageError('not confirmed: nothing was changed', 'pass --yes to skip the question');
}
