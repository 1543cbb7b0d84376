/**
 * The group's private certificate authority and the server certificates it signs, built with
 * node-forge (keys come from node:crypto, which is much faster than forge's pure-JS RSA). Pure
 * apart from randomness: no files, no vault (see ensure.ts for that).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

const { pki } = forge;

export const CA_VALID_DAYS = 3650;
export const SERVER_VALID_DAYS = 825;
/** a server certificate this close to expiry is issued again */
export const RENEW_BEFORE_DAYS = 90;
const DAY_MS = 86_400_000;

export interface KeyAndCert {
  keyPem: string;
  certPem: string;
}

function newKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
}

/** a positive 128-bit serial (the leading byte is kept below 0x80) */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number, now: Date): void {
  // a little slack for hosts whose clock is behind ours
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

export function createCa(groupName: string, now = new Date()): KeyAndCert {
  const keyPem = newKeyPem();
  const key = pki.privateKeyFromPem(keyPem);
  const cert = pki.createCertificate();
  cert.publicKey = pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serial();
  validity(cert, CA_VALID_DAYS, now);
  const subject = [
    { name: 'commonName', value: `tpa CA ${groupName}` },
    { name: 'organizationName', value: 'tpa' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { keyPem, certPem: pki.certificateToPem(cert) };
}

export interface ServerIdentity {
  /** node name: the certificate's CN and a DNS SAN */
  name: string;
  /** the node's address: an IP SAN (or DNS SAN when it is a name) */
  address: string;
}

function altNames(id: ServerIdentity): { type: number; value?: string; ip?: string }[] {
  const names: { type: number; value?: string; ip?: string }[] = [{ type: 2, value: id.name }];
  if (isIP(id.address)) names.push({ type: 7, ip: id.address });
  else if (id.address !== id.name) names.push({ type: 2, value: id.address });
  return names;
}

export function issueServerCert(ca: KeyAndCert, id: ServerIdentity, now = new Date()): KeyAndCert {
  const caCert = pki.certificateFromPem(ca.certPem);
  const caKey = pki.privateKeyFromPem(ca.keyPem);
  const keyPem = newKeyPem();
  const key = pki.privateKeyFromPem(keyPem);
  const cert = pki.createCertificate();
  cert.publicKey = pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serial();
  validity(cert, SERVER_VALID_DAYS, now);
  cert.setSubject([
    { name: 'commonName', value: id.name },
    { name: 'organizationName', value: 'tpa' },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: altNames(id) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { keyPem, certPem: pki.certificateToPem(cert) };
}

/** Whether the private key belongs to the certificate. */
export function keyMatchesCert(keyPem: string, certPem: string): boolean {
  try {
    const key = pki.privateKeyFromPem(keyPem);
    const pub = pki.certificateFromPem(certPem).publicKey as forge.pki.rsa.PublicKey;
    return key.n.equals(pub.n) && key.e.equals(pub.e);
  } catch {
    return false;
  }
}

/** Whether `certPem` was signed by the CA and is valid at `now`. */
export function signedBy(certPem: string, caPem: string, now = new Date()): boolean {
  try {
    const store = pki.createCaStore([caPem]);
    return pki.verifyCertificateChain(store, [pki.certificateFromPem(certPem)], { validityCheckDate: now });
  } catch {
    return false;
  }
}

export function subjectAltNames(certPem: string): { dns: string[]; ip: string[] } {
  const ext = pki.certificateFromPem(certPem).getExtension('subjectAltName') as {
    altNames?: { type: number; value?: string; ip?: string }[];
  } | null;
  const names = ext?.altNames ?? [];
  return {
    dns: names.filter((n) => n.type === 2 && n.value !== undefined).map((n) => n.value!),
    ip: names.filter((n) => n.type === 7 && n.ip !== undefined).map((n) => n.ip!),
  };
}

export function notAfter(certPem: string): Date {
  return pki.certificateFromPem(certPem).validity.notAfter;
}

/**
 * Whether an existing server certificate can stay: same CA, its key, the node's name and
 * address, and not about to expire.
 */
export function serverCertUsable(
  current: KeyAndCert,
  caPem: string,
  id: ServerIdentity,
  now = new Date(),
): boolean {
  if (!keyMatchesCert(current.keyPem, current.certPem) || !signedBy(current.certPem, caPem, now))
    return false;
  if (notAfter(current.certPem).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return false;
  const have = subjectAltNames(current.certPem);
  const want = altNames(id);
  return want.every((w) => (w.type === 7 ? have.ip.includes(w.ip!) : have.dns.includes(w.value!)));
}

/** Whether a CA certificate and key belong together and the CA has not expired. */
export function caUsable(ca: KeyAndCert, now = new Date()): boolean {
  return keyMatchesCert(ca.keyPem, ca.certPem) && notAfter(ca.certPem).getTime() > now.getTime();
}
