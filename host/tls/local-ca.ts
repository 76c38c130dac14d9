/**
 * The built-in certificate authority in `<data-dir>/tls/`: `ca.key` + `ca.crt` (made once by
 * `tls setup`, kept for ten years: every phone that trusts it keeps working) and `host.key` +
 * `host.crt` (re-issued whenever it nears its end or no longer covers this machine's names).
 *
 * Private keys are written 0600 in a 0700 directory and never leave it; the host refuses a CA key
 * that others can read, as it does its identity key. Files are replaced by rename, so the server
 * never reads half a certificate.
 * @module
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../files.ts';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { createCa, issueHostCertificate, type CertificateNames, type KeyAndCertificate } from './certificates.ts';

export const TLS_DIR = 'tls';
/** Re-issue the host certificate this long before it ends. */
export const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;
const CA_WARN_BEFORE_MS = 90 * 24 * 60 * 60 * 1000;

export interface LocalCaPaths {
  dir: string;
  caKey: string;
  caCert: string;
  hostKey: string;
  hostCert: string;
}

export function localCaPaths(dataDir: string): LocalCaPaths {
  const dir = join(dataDir, TLS_DIR);
  return { dir, caKey: join(dir, 'ca.key'), caCert: join(dir, 'ca.crt'), hostKey: join(dir, 'host.key'), hostCert: join(dir, 'host.crt') };
}

export interface LocalCa {
  paths: LocalCaPaths;
  certPem: string;
  /** SHA-256 of the CA certificate, colon hex ("AB:CD:…"), as phones and browsers show it. */
  fingerprint: string;
}

export type RenewalReason = 'missing' | 'unreadable' | 'other-ca' | 'expiring' | 'names';

/** The reason to re-issue, or undefined when the host certificate is fine as it is. */
export type HostCertificateCheck = { renew: false } | { renew: true; reason: RenewalReason; detail: string };

export function caCommonName(hostName: string): string {
  return `OpenWork Relay local CA (${hostName})`;
}

/** The local CA, or undefined when `tls setup` has not been run for this data directory. */
export function loadLocalCa(dataDir: string): LocalCa | undefined {
  const paths = localCaPaths(dataDir);
  let certPem: string;
  try {
    certPem = readFileSync(paths.caCert, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${paths.caCert}: ${(err as Error).message}`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`${paths.caCert} is damaged (${(err as Error).message}): move the tls folder away and run npm start -- tls setup`);
  }
  checkPrivate(paths.caKey);
  return { paths, certPem, fingerprint: cert.fingerprint256 };
}

export interface TlsSetupOptions {
  dataDir: string;
  names: CertificateNames;
  /** The computer's name, shown in the CA's name so a phone's certificate list says whose it is. */
  hostName: string;
  log: Logger;
  now?: Date;
}

export interface TlsSetupResult {
  ca: LocalCa;
  /** False when an existing CA was kept (phones that trust it keep working). */
  createdCa: boolean;
}

/**
 * `npm start -- tls setup`: makes the CA unless one exists, then always issues a fresh host
 * certificate, and prints the fingerprint a person compares on the phone.
 */
export async function tlsSetup(opts: TlsSetupOptions): Promise<TlsSetupResult> {
  const paths = localCaPaths(opts.dataDir);
  let ca = loadLocalCa(opts.dataDir);
  const createdCa = !ca;
  if (!ca) {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const made = await createCa({ commonName: caCommonName(opts.hostName), now: opts.now });
    writeFileAtomic(paths.caKey, made.keyPem, { mode: 0o600 });
    writeFileAtomic(paths.caCert, made.certPem, { mode: 0o644 });
    ca = loadLocalCa(opts.dataDir)!;
    opts.log.info('created a local certificate authority', { path: paths.caCert });
  } else {
    opts.log.info('kept the existing local certificate authority', { path: paths.caCert });
  }
  await issue(ca, opts.names, opts.now);
  opts.log.info('issued the host certificate', { path: paths.hostCert, names: [...opts.names.dns, ...opts.names.ips].join(', ') });
  logFingerprint(ca, opts.log);
  return { ca, createdCa };
}

export function logFingerprint(ca: LocalCa, log: Logger): void {
  log.info(`local CA fingerprint (SHA-256): ${ca.fingerprint}`);
}

/** Whether the host certificate must be re-issued to be valid for `names` until well after `now`. */
export function checkHostCertificate(ca: LocalCa, names: CertificateNames, now: Date = new Date()): HostCertificateCheck {
  let cert: X509Certificate;
  let key: string;
  try {
    cert = new X509Certificate(readFileSync(ca.paths.hostCert));
    key = readFileSync(ca.paths.hostKey, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { renew: true, reason: missing ? 'missing' : 'unreadable', detail: (err as Error).message };
  }
  try {
    const caCert = new X509Certificate(ca.certPem);
    if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey) || !cert.checkPrivateKey(createPrivateKey(key))) {
      return { renew: true, reason: 'other-ca', detail: 'the host certificate does not belong to the current CA and host key' };
    }
  } catch (err) {
    return { renew: true, reason: 'unreadable', detail: (err as Error).message };
  }
  const left = Date.parse(cert.validTo) - now.getTime();
  if (left < RENEW_BEFORE_MS) return { renew: true, reason: 'expiring', detail: `valid until ${cert.validTo}` };
  const uncovered = [
    ...names.dns.filter((d) => cert.checkHost(d, { subject: 'never', wildcards: false }) === undefined),
    ...names.ips.filter((ip) => cert.checkIP(ip) === undefined),
  ];
  if (uncovered.length) return { renew: true, reason: 'names', detail: `not covered: ${uncovered.join(', ')}` };
  return { renew: false };
}

/** Re-issues the host certificate when `checkHostCertificate` says so; returns whether it did. */
export async function renewHostCertificate(ca: LocalCa, names: CertificateNames, log: Logger, now: Date = new Date()): Promise<boolean> {
  const check = checkHostCertificate(ca, names, now);
  if (!check.renew) return false;
  await issue(ca, names, now);
  log.info('re-issued the host certificate', { reason: check.reason, detail: check.detail, path: ca.paths.hostCert });
  warnIfCaEnding(ca, log, now);
  return true;
}

export function warnIfCaEnding(ca: LocalCa, log: Logger, now: Date = new Date()): void {
  const end = new X509Certificate(ca.certPem).validTo;
  if (Date.parse(end) - now.getTime() < CA_WARN_BEFORE_MS) {
    log.warn(`the local CA ends on ${end}: move ${ca.paths.dir} away, run npm start -- tls setup, and install the new CA on your devices`);
  }
}

async function issue(ca: LocalCa, names: CertificateNames, now?: Date): Promise<void> {
  const caPair: KeyAndCertificate = { keyPem: readFileSync(ca.paths.caKey, 'utf8'), certPem: ca.certPem };
  const made = await issueHostCertificate({ ca: caPair, names, now });
  // Key first: the server reads both only after this returns, and a crash in between leaves a
  // pair that checkHostCertificate reports as not matching, so the next start re-issues.
  writeFileAtomic(ca.paths.hostKey, made.keyPem, { mode: 0o600 });
  writeFileAtomic(ca.paths.hostCert, made.certPem, { mode: 0o644 });
}

function checkPrivate(path: string): void {
  if (process.platform === 'win32') return; // no POSIX modes; the profile directory's ACL applies
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    throw new Error(`cannot read the local CA's key ${path} (${(err as Error).message}): restore it, or move the tls folder away and run npm start -- tls setup`);
  }
  if (mode & 0o077) {
    throw new Error(
      `${path} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); it is the local CA's private key. ` +
        `Run \`chmod 600 ${path}\` and start again. If others may have copied it, remove the CA from your devices, move the ` +
        'tls folder away and run npm start -- tls setup.',
    );
  }
}
