/**
 * A local certificate authority and the host certificates it issues: ECDSA P-256 keys and
 * SHA-256 signatures from node:crypto, X.509 v3 written by ./der.ts.
 *
 * The shapes follow what browsers and phones demand of a certificate under a root a person
 * installed by hand: a CA with `CA:true, pathlen 0` and a common name (iOS lists a root under
 * "Certificate Trust Settings" only when it has one), and a leaf whose names are all in its
 * SubjectAltName (the common name is ignored), with serverAuth, at most 397 days long (Apple's and
 * Chrome's limit for leaves is 398), and key identifiers linking the two.
 * @module
 */
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  implicit,
  ipBytes,
  namedBits,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.ts';

export const CA_VALIDITY_DAYS = 3650;
export const HOST_VALIDITY_DAYS = 397;
/** A phone whose clock runs a little behind still accepts a certificate made just now. */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** A dNSName is an IA5String: ASCII labels only. */
const HOST_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** RFC 5280 KeyUsage bit numbers. */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

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

export function createCa(opts: { commonName: string; now?: Date }): KeyAndCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = distinguishedName(opts.commonName);
  const keyId = keyIdentifier(publicKey);
  const certPem = signCertificate({
    issuer: name,
    subject: name,
    subjectKey: publicKey,
    signingKey: privateKey,
    validityDays: CA_VALIDITY_DAYS,
    now: opts.now ?? new Date(),
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true), smallInteger(0))),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
      extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
    ],
  });
  return { keyPem: pem(privateKey), certPem };
}

export function issueHostCertificate(opts: { ca: KeyAndCertificate; names: CertificateNames; now?: Date }): KeyAndCertificate {
  if (!opts.names.dns.length && !opts.names.ips.length) throw new RangeError('names: a host certificate needs at least one name or address');
  for (const d of opts.names.dns) {
    if (!HOST_NAME.test(d)) throw new RangeError(`names.dns: ${JSON.stringify(d)} is not a host name (give a non-ASCII name in its punycode form)`);
  }
  const caKey = createPrivateKey(opts.ca.keyPem);
  const caCert = new X509Certificate(opts.ca.certPem);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const altNames = [...opts.names.dns.map((d) => implicit(2, Buffer.from(d, 'ascii'))), ...opts.names.ips.map((ip) => implicit(7, ipBytes(ip)))];
  const certPem = signCertificate({
    issuer: issuerName(caCert.raw),
    subject: distinguishedName(opts.names.dns[0] ?? opts.names.ips[0]!),
    subjectKey: publicKey,
    signingKey: caKey,
    validityDays: HOST_VALIDITY_DAYS,
    now: opts.now ?? new Date(),
    extensions: [
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
      extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, sequence(...altNames)),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(publicKey))),
      extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, keyIdentifier(caCert.publicKey)))),
    ],
  });
  return { keyPem: pem(privateKey), certPem };
}

interface CertificateFields {
  issuer: Buffer;
  subject: Buffer;
  subjectKey: KeyObject;
  signingKey: KeyObject;
  validityDays: number;
  now: Date;
  extensions: Buffer[];
}

function signCertificate(f: CertificateFields): string {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const notBefore = new Date(Math.floor((f.now.getTime() - BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + f.validityDays * DAY_MS);
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serialNumber()),
    algorithm,
    f.issuer,
    sequence(time(notBefore), time(notAfter)),
    f.subject,
    f.subjectKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...f.extensions)),
  );
  const signature = sign('sha256', tbs, { key: f.signingKey, dsaEncoding: 'der' });
  const der = sequence(tbs, algorithm, bitString(signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280: at most 20 octets). */
function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

function distinguishedName(commonName: string): Buffer {
  const attribute = (type: string, value: string) => set(sequence(oid(type), utf8String(value)));
  return sequence(attribute(OID.organization, ORGANIZATION), attribute(OID.commonName, commonName));
}

/**
 * The issuer's subject exactly as encoded in its certificate, so name chaining compares equal
 * bytes. A certificate is SEQUENCE { tbs SEQUENCE { [0] version, serial, algorithm, issuer,
 * validity, subject, ... } }: the subject is the sixth element of the tbs.
 */
function issuerName(certDer: Buffer): Buffer {
  let tbs = children(certDer)[0]!;
  tbs = tbs.subarray(headerLength(tbs));
  return children(tbs)[5]!;
}

/** The complete encodings (header included) of the elements inside a constructed value's content. */
function children(der: Buffer): Buffer[] {
  const content = der.subarray(headerLength(der));
  const out: Buffer[] = [];
  for (let at = 0; at < content.length; ) {
    const rest = content.subarray(at);
    const size = headerLength(rest) + contentLength(rest);
    out.push(rest.subarray(0, size));
    at += size;
  }
  return out;
}

function headerLength(der: Buffer): number {
  const first = der[1]!;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function contentLength(der: Buffer): number {
  const first = der[1]!;
  if (first < 0x80) return first;
  let n = 0;
  for (let i = 0; i < (first & 0x7f); i++) n = n * 256 + der[2 + i]!;
  return n;
}

/** RFC 7093 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey bits. */
function keyIdentifier(key: KeyObject): Buffer {
  const spki = key.export({ type: 'spki', format: 'der' });
  // An uncompressed P-256 point is the last 65 bytes of its SPKI.
  return createHash('sha256').update(spki.subarray(spki.length - 65)).digest().subarray(0, 20);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

function pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}
