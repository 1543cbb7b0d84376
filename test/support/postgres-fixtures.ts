/** Test fixtures of the postgres, common and tls tests: a group, its inventory, secrets, facts. */
import type { ClusterGroupInput } from '../../src/model/schema.ts';
import type { HostFacts } from '../../src/plan/types.ts';
import type { Inventory, InventoryHost } from '../../src/platforms/platform.ts';
import { testHost, threeNodeConfig, threeNodeInventory } from './fixtures.ts';
import type { DeployContext } from '../../src/components/component.ts';
import { TLS_CA_CERT, tlsCertName, tlsKeyName } from '../../src/components/tls/names.ts';

export function groupConfig(over: Partial<ClusterGroupInput> = {}) {
  return threeNodeConfig(over);
}

export function node(
  name: string,
  address: string,
  role: InventoryHost['role'] = 'replica',
  over: Partial<InventoryHost> = {},
): InventoryHost {
  return testHost({ name, address, role, ...over });
}

export function groupInventory(extra: InventoryHost[] = []): Inventory {
  return threeNodeInventory(extra);
}

export function groupSecrets(inventory: Inventory): Record<string, string> {
  const s: Record<string, string> = {
    postgres_password: 'pw-postgres-0123456789',
    replication_password: 'pw-replication-0123456789',
    repmgr_password: 'pw-repmgr-0123456789',
    barman_password: 'pw-barman-0123456789',
    pgbouncer_password: 'pw-pgbouncer-0123456789',
    pgbouncer_check_password: 'pw-pgbouncer-check-0123456789',
    ssh_public_key:
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKtpaTpaTpaTpaTpaTpaTpaTpaTpaTpaTpaTpaTpaTpa tpa@acme',
    [TLS_CA_CERT]: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
  };
  for (const h of inventory.hosts) {
    s[tlsCertName(h.name)] = `-----BEGIN CERTIFICATE-----\n${h.name}\n-----END CERTIFICATE-----\n`;
    s[tlsKeyName(h.name)] = `-----BEGIN RSA PRIVATE KEY-----\n${h.name}\n-----END RSA PRIVATE KEY-----\n`;
  }
  return s;
}

export function deployContext(
  config = groupConfig(),
  inventory = groupInventory(),
  facts: Record<string, HostFacts> = {},
): DeployContext {
  return { config, inventory, secrets: groupSecrets(inventory), facts };
}

export { testFacts as facts } from './fixtures.ts';
