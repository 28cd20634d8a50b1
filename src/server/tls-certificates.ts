/**
 * Certificate generation for the quick start: a private CA and a server certificate for the
 * gateway listener, written into the data directory, so `npm start` serves HTTPS that kubectl
 * can trust through the printed CA file. Production deployments bring their own certificate.
 * ECDSA P-256 keys: fast to generate and accepted by every Kubernetes client.
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs the Reflect polyfill.
import * as x509 from '@peculiar/x509';
import { webcrypto, createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { AirlockError } from '../errors.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const day = 24 * 60 * 60 * 1000;

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
  caPem: string;
}

function serial(): string {
  // Positive 128-bit serial (top bit cleared), as RFC 5280 §4.1.2.2 asks.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

async function importKeyPem(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
}

/** generateCertificateAuthority creates a self-signed CA valid for `days` (default 10 years). */
export async function generateCertificateAuthority(name = 'airlock local CA', days = 3650): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + days * day),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** issueServerCertificate signs a TLS server certificate for `hosts` (DNS names or IPs). */
export async function issueServerCertificate(ca: CertificateAuthority, hosts: string[], days = 825): Promise<ServerCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const names = hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${hosts[0] ?? 'airlock'}`,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + days * day),
    publicKey: keys.publicKey,
    signingKey: await importKeyPem(ca.keyPem),
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey), caPem: ca.certPem };
}

export interface QuickstartTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * ensureQuickstartTls returns the CA and server certificate files under `${dataDir}/tls`,
 * creating them on first use (keys mode 0600). An existing server certificate is reissued when
 * it does not cover every host in `hosts`.
 */
export async function ensureQuickstartTls(dataDir: string, hosts: string[]): Promise<QuickstartTlsFiles> {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
  const caKeyFile = join(dir, 'ca.key');
  let ca: CertificateAuthority;
  if (existsSync(files.caFile) && existsSync(caKeyFile)) {
    ca = { certPem: readFileSync(files.caFile, 'utf8'), keyPem: readFileSync(caKeyFile, 'utf8') };
  } else {
    ca = await generateCertificateAuthority();
    writeFileSync(caKeyFile, ca.keyPem, { mode: 0o600 });
    writeFileSync(files.caFile, ca.certPem);
  }
  if (existsSync(files.certFile) && existsSync(files.keyFile) && coversHosts(readFileSync(files.certFile, 'utf8'), hosts)) {
    return files;
  }
  const server = await issueServerCertificate(ca, hosts);
  writeFileSync(files.keyFile, server.keyPem, { mode: 0o600 });
  writeFileSync(files.certFile, server.certPem);
  return files;
}

function coversHosts(certPem: string, hosts: string[]): boolean {
  const cert = new x509.X509Certificate(certPem);
  if (cert.notAfter.getTime() < Date.now() + 7 * day) return false;
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const values = new Set((san?.names.items ?? []).map((n) => n.value));
  return hosts.every((h) => values.has(h));
}

/** The gateway's own certificate and key, read and checked. */
export interface GatewayTls {
  cert: Buffer;
  key: Buffer;
}

/**
 * loadGatewayTls reads `tls.cert` and `tls.key` and checks them before any listener uses
 * them, so a mistake is named at start rather than surfacing as a TLS stack trace or as
 * kubectl's x509 error: a file that cannot be read, a file that is not PEM, a key that does
 * not belong to the certificate, a certificate outside its validity period. Throws
 * AIRLOCK_CONFIG_INVALID naming the field and the file.
 */
export function loadGatewayTls(files: { cert: string; key: string }, now = new Date()): GatewayTls {
  const read = (field: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new AirlockError('AIRLOCK_CONFIG_INVALID', `${field}: cannot read ${path} (${(err as { code?: string }).code ?? (err as Error).message})`);
    }
  };
  const certPem = read('tls.cert', files.cert);
  const keyPem = read('tls.key', files.key);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `tls.cert: ${files.cert} does not hold a PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `tls.key: ${files.key} does not hold a PEM private key (or it is encrypted: airlock needs it unencrypted)`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `tls.key: ${files.key} is not the key of the certificate in ${files.cert} (${cert.subject.replaceAll('\n', ', ')})`);
  }
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
    throw new AirlockError('AIRLOCK_CONFIG_INVALID', `tls.cert: the certificate in ${files.cert} is valid from ${cert.validFrom} to ${cert.validTo}, not now; clients would refuse it`);
  }
  return { cert: certPem, key: keyPem };
}
