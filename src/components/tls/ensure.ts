/**
 * Makes sure the cluster directory holds the group's CA and a server certificate for every
 * postgres node, before a deploy is planned. Certificates (public) are files in DIR/tls and are
 * committed with the directory; private keys live only in the vault. Idempotent: what exists
 * and still fits (same CA, same name and address, not near expiry) is reused as it is.
 *
 * The returned `secrets` are merged into DeployContext.secrets under the names of names.ts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationError } from '../../core/errors.ts';
import type { Inventory } from '../../platforms/platform.ts';
import { exclusive, openVault } from '../../secrets/open-vault.ts';
import { caUsable, createCa, issueServerCert, serverCertUsable, type KeyAndCert } from './certs.ts';
import { TLS_CA_CERT, TLS_CA_KEY, TLS_DIR, tlsCertName, tlsKeyName } from './names.ts';

export interface TlsResult {
  /** PEMs for DeployContext.secrets: CA certificate, and per node certificate and key */
  secrets: Record<string, string>;
  /** files written, relative to the cluster directory (to commit); empty when nothing changed */
  files: string[];
  /** what was created, in words */
  changes: string[];
}

async function readText(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

export async function ensureTls(dir: string, inventory: Inventory, now = new Date()): Promise<TlsResult> {
  return exclusive(dir, () => ensureTlsNow(dir, inventory, now));
}

async function ensureTlsNow(dir: string, inventory: Inventory, now: Date): Promise<TlsResult> {
  const vault = await openVault(dir);
  // keys first, files after, all keys in one write: a certificate file never exists without its key
  const pending: { file: string; pem: string }[] = [];
  const files: string[] = [];
  const changes: string[] = [];
  const caFile = join(TLS_DIR, 'ca.crt');
  await mkdir(join(dir, TLS_DIR), { recursive: true });

  const caCert = await readText(join(dir, caFile));
  let ca: KeyAndCert | undefined;
  if (caCert !== undefined && vault.has(TLS_CA_KEY)) {
    ca = { certPem: caCert, keyPem: await vault.get(TLS_CA_KEY) };
    if (!caUsable(ca, now)) {
      throw new OperationError(`${caFile} does not belong to the CA key in the vault, or has expired`, {
        step: 'tls',
        hint: `restore ${caFile} from git (git -C ${dir} log -- ${caFile}); to start a new CA, remove ${caFile} and the tls_ca_key secret (every node certificate is then issued again)`,
      });
    }
  } else if (caCert !== undefined || vault.has(TLS_CA_KEY)) {
    const missing = caCert === undefined ? caFile : 'the tls_ca_key secret';
    throw new OperationError(`the group's CA is incomplete: ${missing} is missing`, {
      step: 'tls',
      hint: `restore it from git history; a new CA would invalidate the certificates clients trust`,
    });
  } else {
    ca = createCa(inventory.group, now);
    await vault.set(TLS_CA_KEY, ca.keyPem);
    pending.push({ file: caFile, pem: ca.certPem });
    changes.push(`created the CA of group ${inventory.group}`);
  }

  const secrets: Record<string, string> = { [TLS_CA_CERT]: ca.certPem };
  for (const host of inventory.hosts.filter((h) => h.kind === 'postgres')) {
    const certFile = join(TLS_DIR, `${host.name}.crt`);
    const keyName = tlsKeyName(host.name);
    const id = { name: host.name, address: host.address };
    const certPem = await readText(join(dir, certFile));
    let current: KeyAndCert | undefined;
    if (certPem !== undefined && vault.has(keyName)) {
      current = { certPem, keyPem: await vault.get(keyName) };
      if (!serverCertUsable(current, ca.certPem, id, now)) current = undefined;
    }
    if (!current) {
      current = issueServerCert(ca, id, now);
      await vault.set(keyName, current.keyPem);
      pending.push({ file: certFile, pem: current.certPem });
      changes.push(`issued a server certificate for ${host.name} (${host.address})`);
    }
    secrets[tlsCertName(host.name)] = current.certPem;
    secrets[keyName] = current.keyPem;
  }
  await vault.save();
  for (const p of pending) {
    await writeFile(join(dir, p.file), p.pem, { mode: 0o644 });
    files.push(p.file);
  }
  if (changes.length > 0) files.push('secrets.enc.json');
  return { secrets, files, changes };
}
