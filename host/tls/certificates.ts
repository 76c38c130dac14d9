/**
 * A local certificate authority and the host certificates it issues: ECDSA P-256 keys and
 * SHA-256 signatures from WebCrypto, X.509 v3 written by @peculiar/x509.
 *
 * The shapes follow what browsers and phones demand of a certificate under a root a person
 * installed by hand: a CA with `CA:true, pathlen 0` and a common name (iOS lists a root under
 * "Certificate Trust Settings" only when it has one), and a leaf whose names are all in its
 * SubjectAltName (the common name is ignored), with serverAuth, at most 397 days long (Apple's and
 * Chrome's limit for leaves is 398), and key identifiers linking the two.
 * @module
 */
import { KeyObject, createPrivateKey, randomBytes, type webcrypto } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

export const CA_VALIDITY_DAYS = 3650;
export const HOST_VALIDITY_DAYS = 397;
/** A phone whose clock runs a little behind still accepts a certificate made just now. */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** A dNSName is an IA5String: ASCII labels only. */
const HOST_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ORGANIZATION = 'OpenWork Relay';

/** A certificate and its private key, both PEM. */
export interface KeyAndCertificate {
  keyPem: string;
  certPem: string;
}

/** The names a host certificate is valid for. */
export interface CertificateNames {
  /** DNS names, e.g. `alices-mac.local`, `localhost`. */
  dns: string[];
  /** IPv4 and IPv6 addresses. */
  ips: string[];
}

type X509 = typeof import('@peculiar/x509');
let library: Promise<X509> | undefined;

/**
 * Loaded on first use: certificates are made only by `tls setup` and by a renewal, and a host
 * that just serves should not carry the library and its ASN.1 schemas in memory.
 */
function x509(): Promise<X509> {
  library ??= (async () => {
    // The library's dependency injection (tsyringe) needs the Reflect metadata API in place first.
    await import('reflect-metadata');
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(crypto);
    return lib;
  })();
  return library;
}

export async function createCa(opts: { commonName: string; now?: Date }): Promise<KeyAndCertificate> {
  const lib = await x509();
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const cert = await lib.X509CertificateGenerator.createSelfSigned({
    ...validity(CA_VALIDITY_DAYS, opts.now),
    serialNumber: serialNumber(),
    name: distinguishedName(lib, opts.commonName),
    keys,
    extensions: [
      new lib.BasicConstraintsExtension(true, 0, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature | lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      new lib.SubjectKeyIdentifierExtension(await keyIdentifier(await lib.PublicKey.create(keys.publicKey))),
    ],
  });
  return { keyPem: pem(keys.privateKey), certPem: `${cert.toString('pem')}\n` };
}

export async function issueHostCertificate(opts: { ca: KeyAndCertificate; names: CertificateNames; now?: Date }): Promise<KeyAndCertificate> {
  if (!opts.names.dns.length && !opts.names.ips.length) throw new RangeError('names: a host certificate needs at least one name or address');
  for (const d of opts.names.dns) {
    if (!HOST_NAME.test(d)) throw new RangeError(`names.dns: ${JSON.stringify(d)} is not a host name (give a non-ASCII name in its punycode form)`);
  }
  const ips = opts.names.ips.map(canonicalIp);
  const lib = await x509();
  const caCert = new lib.X509Certificate(opts.ca.certPem);
  const caKeyDer = createPrivateKey(opts.ca.keyPem).export({ type: 'pkcs8', format: 'der' });
  const signingKey = await crypto.subtle.importKey('pkcs8', caKeyDer, KEY_ALGORITHM, false, ['sign']);
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const cert = await lib.X509CertificateGenerator.create({
    ...validity(HOST_VALIDITY_DAYS, opts.now),
    serialNumber: serialNumber(),
    // The CA's subject as its certificate encodes it, so name chaining compares equal bytes.
    issuer: caCert.subjectName,
    subject: distinguishedName(lib, opts.names.dns[0] ?? opts.names.ips[0]!),
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
      new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
      new lib.SubjectAlternativeNameExtension([...opts.names.dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))]),
      new lib.SubjectKeyIdentifierExtension(await keyIdentifier(await lib.PublicKey.create(keys.publicKey))),
      new lib.AuthorityKeyIdentifierExtension(await keyIdentifier(caCert.publicKey)),
    ],
  });
  return { keyPem: pem(keys.privateKey), certPem: `${cert.toString('pem')}\n` };
}

/** Whole seconds, backdated an hour; `validityDays` long. */
function validity(days: number, now = new Date()): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280: at most 20 octets), as hex. */
function serialNumber(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial.toString('hex');
}

/** UTF8String values, as RFC 5280 asks (the library would pick PrintableString where it can). */
function distinguishedName(lib: X509, commonName: string): InstanceType<X509['Name']> {
  return new lib.Name([{ O: [{ utf8String: ORGANIZATION }] }, { CN: [{ utf8String: commonName }] }]);
}

/**
 * An address as the library's parser reads it: IPv6 in plain hex groups (node's URL parser
 * rewrites an embedded IPv4 tail such as ::ffff:1.2.3.4, which the library would misread).
 */
function canonicalIp(ip: string): string {
  if (isIPv4(ip)) return ip;
  if (isIPv6(ip)) {
    try {
      return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
    } catch {
      // A zone (fe80::1%eth0) is no part of an address a certificate can name.
    }
  }
  throw new RangeError(`ip: not an IP address: ${ip}`);
}

/** RFC 7093 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey bits, as hex. */
async function keyIdentifier(key: import('@peculiar/x509').PublicKey): Promise<string> {
  return Buffer.from(await key.getKeyIdentifier('SHA-256'))
    .subarray(0, 20)
    .toString('hex');
}

function pem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}
