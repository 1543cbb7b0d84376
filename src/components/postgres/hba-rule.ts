/**
 * What a pg_hba.conf rule is, and the address helpers rules are built with: a leaf module, so
 * the failover manager's and the pooler's rules can be built without importing hba.ts (which
 * asks their registries).
 */
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../../core/errors.ts';
import { parseCidr } from '../../model/cidr.ts';
import type { ClusterGroupConfig } from '../../model/schema.ts';

export type HbaMethod = 'peer' | 'scram-sha-256' | 'md5';

export interface HbaRule {
  type: 'local' | 'host' | 'hostssl';
  database: string;
  user: string;
  /** CIDR; absent for local rules */
  address?: string;
  method: HbaMethod;
  /** shown as a comment line above the rule */
  comment?: string;
}

/** `10.0.3.5` -> `10.0.3.5/32`, `fd00::5` -> `fd00::5/128`. */
export function hostCidr(address: string): string {
  const parsed = ipaddr.parse(address);
  return `${parsed.toString()}/${parsed.kind() === 'ipv4' ? 32 : 128}`;
}

/** The client networks of access.client_cidrs (network form); anywhere (IPv4 and IPv6) when empty. */
export function clientCidrs(config: ClusterGroupConfig): string[] {
  const given = config.access.client_cidrs;
  if (given.length === 0) return ['0.0.0.0/0', '::/0'];
  const parsed = given.map((c) => parseCidr(c));
  const issues = parsed.flatMap((r, i) =>
    r.ok
      ? []
      : [
          {
            file: 'config.yml',
            path: `access.client_cidrs.${i}`,
            message: `${JSON.stringify(given[i])} ${r.problem}`,
            ...(r.hint ? { hint: r.hint } : {}),
          },
        ],
  );
  if (issues.length > 0) throw new ConfigError(issues);
  return [...new Set(parsed.map((r) => (r.ok ? `${r.cidr.network}/${r.cidr.prefix}` : '')))];
}
