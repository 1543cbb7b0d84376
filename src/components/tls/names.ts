/**
 * Where TLS material lives. In the cluster directory: DIR/tls/ca.crt and DIR/tls/<node>.crt
 * (public, committed). In the vault: tls_ca_key and tls_key_<node> (private). In
 * DeployContext.secrets (filled by ensureTls): the names below, PEM text.
 */
import { createHash } from 'node:crypto';

export const TLS_DIR = 'tls';
/** DeployContext.secrets: the CA certificate (PEM) */
export const TLS_CA_CERT = 'tls_ca_cert';
/** vault: the CA private key */
export const TLS_CA_KEY = 'tls_ca_key';

/** vault names are [a-z][a-z0-9_]{0,63}; node names are RFC 1123 labels (a-z, 0-9, '-'), at most 63 */
function suffix(prefix: string, node: string): string {
  const plain = node.toLowerCase().replace(/[^a-z0-9]/g, '_');
  if (prefix.length + plain.length <= 64) return prefix + plain;
  const tag = createHash('sha256').update(node).digest('hex').slice(0, 8);
  return `${prefix}${plain.slice(0, 64 - prefix.length - 9)}_${tag}`;
}

/** vault and DeployContext.secrets: the node's server key (PEM) */
export function tlsKeyName(node: string): string {
  return suffix('tls_key_', node);
}

/** DeployContext.secrets: the node's server certificate (PEM) */
export function tlsCertName(node: string): string {
  return suffix('tls_cert_', node);
}
