/** Who gets in: SSH keys and the client authentication method. */
import type { ClusterGroupConfig } from '../schema.ts';
import { parseSshPublicKey } from '../ssh-key.ts';
import { error, warning, type RuleIssue } from './types.ts';

export function sshAuthorizedKeys(config: ClusterGroupConfig): RuleIssue[] {
  const seen = new Map<string, number>();
  return config.access.ssh_authorized_keys.flatMap((line, i): RuleIssue[] => {
    const path = ['access', 'ssh_authorized_keys', i];
    const r = parseSshPublicKey(line);
    if (!r.ok) return [error(path, `SSH public key ${r.problem}`, r.hint)];
    const first = seen.get(r.blob);
    seen.set(r.blob, first ?? i);
    return first === undefined ? [] : [warning(path, `the same key as access.ssh_authorized_keys.${first}`)];
  });
}

export function clientAuthMethod(config: ClusterGroupConfig): RuleIssue[] {
  if (config.access.client_auth !== 'md5') return [];
  return [
    warning(
      ['access', 'client_auth'],
      'md5 password authentication is legacy and weaker than scram-sha-256',
      'keep md5 only while a client cannot do scram-sha-256',
    ),
  ];
}
