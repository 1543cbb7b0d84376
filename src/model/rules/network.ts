/** Addresses: client CIDRs, the lxc bridge subnet, and how bare hosts are reached. */
import type { ClusterGroupConfig } from '../schema.ts';
import { isIpAddress, parseCidr } from '../cidr.ts';
import { isValidHostname } from '../hostname.ts';
import { allHosts, error, warning, type RuleIssue } from './types.ts';

export function clientCidrs(config: ClusterGroupConfig): RuleIssue[] {
  return config.access.client_cidrs.flatMap((text, i): RuleIssue[] => {
    const path = ['access', 'client_cidrs', i];
    const r = parseCidr(text);
    if (!r.ok) return [error(path, `"${text}" ${r.problem}`, r.hint)];
    const { cidr } = r;
    if (cidr.network !== cidr.address) {
      return [
        warning(
          path,
          `"${text}" has host bits set; it means ${cidr.network}/${cidr.prefix}`,
          `write ${cidr.network}/${cidr.prefix}`,
        ),
      ];
    }
    return [];
  });
}

/** The lxc bridge subnet: private IPv4, big enough for a group, small enough not to swallow a LAN. */
export function lxcSubnet(config: ClusterGroupConfig): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (config.lxc !== undefined && config.platform !== 'lxc') {
    issues.push(warning(['lxc'], `the lxc section is ignored on platform ${config.platform}`));
  }
  const subnet = config.lxc?.subnet;
  if (subnet === undefined) return issues;
  const path = ['lxc', 'subnet'];
  const hint = 'a private IPv4 network with prefix /16 to /28, e.g. 10.213.7.0/24';
  const r = parseCidr(subnet);
  if (!r.ok) return [...issues, error(path, `"${subnet}" ${r.problem}`, r.hint ?? hint)];
  const { cidr } = r;
  if (cidr.kind !== 'ipv4') issues.push(error(path, `"${subnet}" is IPv6; the bridge subnet is IPv4`, hint));
  else if (cidr.range !== 'private')
    issues.push(error(path, `"${subnet}" is not a private RFC 1918 network`, hint));
  else if (cidr.prefix < 16 || cidr.prefix > 28)
    issues.push(error(path, `prefix /${cidr.prefix} is outside /16../28`, hint));
  else if (cidr.network !== cidr.address) {
    issues.push(error(path, `"${subnet}" has host bits set`, `write ${cidr.network}/${cidr.prefix}`));
  }
  return issues;
}

/** bare adopts existing hosts, so tpa must be told where each one is; other platforms assign addresses. */
export function hostAddresses(config: ClusterGroupConfig): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const { host, path } of allHosts(config)) {
    if (host.address === undefined) {
      if (config.platform === 'bare') {
        issues.push(
          error(
            path,
            `"${host.name}" has no address; platform bare needs one for every host`,
            'add address: IP-OR-HOSTNAME',
          ),
        );
      }
      continue;
    }
    if (config.platform !== 'bare') {
      issues.push(
        warning(
          [...path, 'address'],
          `address is ignored on platform ${config.platform}, which assigns addresses`,
        ),
      );
    } else if (!isIpAddress(host.address) && !isValidHostname(host.address)) {
      issues.push(error([...path, 'address'], `"${host.address}" is neither an IP address nor a host name`));
    }
  }
  return issues;
}

export function awsSection(config: ClusterGroupConfig): RuleIssue[] {
  if (config.aws === undefined) return [];
  if (config.platform !== 'aws')
    return [warning(['aws'], `the aws section is ignored on platform ${config.platform}`)];
  if (!/^[a-z]{2}(-[a-z]+)+-[0-9]+$/.test(config.aws.region)) {
    return [error(['aws', 'region'], `"${config.aws.region}" is not an AWS region name`, 'e.g. eu-west-1')];
  }
  return [];
}
