/**
 * `tpa ssh`: a shell (or one command) on a node through the system's ssh client, with the
 * cluster's key and known_hosts and strict host key checking, so it trusts exactly what tpa does.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { OperationError } from '../../core/errors.ts';
import { requireClusterDir } from '../../clusterdir/dir.ts';
import { lookupHostKey } from '../../transport/known-hosts.ts';
import { knownHostsPath, privateKeyFileFor } from '../../clusterdir/connect.ts';
import { inventoryHost, readInventory } from '../../clusterdir/inventory.ts';

export interface SshInvocation {
  /** arguments for the `ssh` program (the key is a file path, never the key itself) */
  args: string[];
  node: string;
}

/** The ssh command line for a node, checked against the inventory and known_hosts first. */
export async function sshInvocation(
  dir: string,
  node: string,
  command: string[] = [],
): Promise<SshInvocation> {
  const abs = await requireClusterDir(dir);
  const host = inventoryHost(await readInventory(abs), node);
  const known = knownHostsPath(abs);
  if (!lookupHostKey(known, host.address, host.sshPort)) {
    throw new OperationError(
      `${node}: no SSH host key recorded for ${host.address}:${host.sshPort} in ${known}`,
      {
        host: node,
        step: 'ssh',
        hint: `run tpa provision ${dir}: it records the host keys`,
      },
    );
  }
  const key = await privateKeyFileFor(abs, host);
  const args = [
    '-i',
    key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${known}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=10',
    '-p',
    String(host.sshPort),
    `${host.sshUser}@${host.address}`,
  ];
  if (command.length > 0) args.push('--', ...command);
  return { args, node };
}

/**
 * Runs ssh with this terminal (stdin, stdout, stderr inherited) and resolves with its exit code:
 * the remote command's, or 255 when ssh itself failed (as ssh reports it).
 */
export async function runSsh(dir: string, node: string, command: string[] = []): Promise<number> {
  const { args } = await sshInvocation(dir, node, command);
  return new Promise<number>((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: 'inherit' });
    child.on('error', (e) => {
      reject(
        new OperationError(`cannot run ssh: ${e.message}`, {
          host: node,
          step: 'ssh',
          hint: 'install the OpenSSH client (apt-get install openssh-client)',
        }),
      );
    });
    // like a shell: a command killed by a signal is 128 + its number
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 127)));
  });
}
