/**
 * `tpa ui`: the web console over a workspace of cluster directories (ui/server.ts). The
 * operations it offers are the commands of the CLI it was started from.
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { jobCommandsOf, startUi, type UiServer } from '../../ui/server.ts';

export interface UiRequest {
  workspace: string;
  host: string;
  port: number;
  /** the CLI's command tree: the operations the console offers */
  program: Command;
}

export async function ui(req: UiRequest): Promise<UiServer> {
  const st = await stat(req.workspace).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new UsageError(
      `workspace ${req.workspace} is not a directory`,
      'give the directory that holds the cluster directories',
    );
  }
  try {
    return await startUi({
      workspace: req.workspace,
      host: req.host,
      port: req.port,
      commands: jobCommandsOf(req.program),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new UsageError(
        `cannot listen on ${req.host}:${req.port} (${code})`,
        'choose another with --listen 127.0.0.1:PORT (port 0: any free one)',
      );
    }
    throw e;
  }
}
