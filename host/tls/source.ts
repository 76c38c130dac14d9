/**
 * Where the HTTPS certificate comes from, and when it changes: the person's own files
 * (--tls-cert/--tls-key, e.g. from mkcert or `tailscale cert`), which win, or the built-in local CA
 * once `tls setup` has made one. Without either the host serves plain HTTP.
 *
 * Own files are polled (fs.watchFile): unlike inotify that also sees a file replaced by rename or
 * a symlink re-pointed (certbot, tailscale), and works on network and container mounts. A change
 * is reported only once the certificate and key parse and belong together, so a renewal tool
 * writing one file after the other never makes the server load a mismatched pair.
 * @module
 */
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from '../log.ts';
import type { TlsFiles } from '../server/http.ts';
import type { CertificateNames } from './certificates.ts';
import { loadLocalCa, logFingerprint, renewHostCertificate, warnIfCaEnding, type LocalCa } from './local-ca.ts';

export interface TlsSource {
  kind: 'local-ca' | 'own';
  /** The files to give the HTTPS server now. */
  files: TlsFiles;
  /** The local CA, for the trust pages; undefined with own certificates. */
  ca?: LocalCa;
  /**
   * Calls `onChange` each time a new, valid certificate is in place (own files replaced, or the
   * local CA's host certificate re-issued). Returns a function that stops watching.
   */
  watch(onChange: (files: TlsFiles) => void): () => void;
}

export interface TlsSourceOptions {
  dataDir: string;
  /** --tls-cert/--tls-key (config.tls). */
  own?: TlsFiles;
  /** The names the local CA's host certificate must cover; asked again at every check, as addresses change. */
  names: () => CertificateNames;
  log: Logger;
  /** How often the local CA's host certificate is checked; default 10 minutes. */
  renewEveryMs?: number;
  /** How often own files are polled; default 2 s. */
  pollMs?: number;
  /** Injected by tests. */
  now?: () => Date;
}

export const DEFAULT_RENEW_EVERY_MS = 10 * 60 * 1000;
export const DEFAULT_POLL_MS = 2000;
const OWN_WARN_BEFORE_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * The certificate to serve, or undefined for plain HTTP. With the local CA it first re-issues the
 * host certificate if needed and prints the CA's fingerprint. Throws with a fix when own files are
 * not a usable pair.
 */
export async function openTlsSource(opts: TlsSourceOptions): Promise<TlsSource | undefined> {
  const now = opts.now ?? (() => new Date());
  if (opts.own) return ownSource(opts.own, opts, now);
  const ca = loadLocalCa(opts.dataDir);
  if (!ca) return undefined;
  await renewHostCertificate(ca, opts.names(), opts.log, now());
  logFingerprint(ca, opts.log);
  warnIfCaEnding(ca, opts.log, now());
  return localCaSource(ca, opts, now);
}

function localCaSource(ca: LocalCa, opts: TlsSourceOptions, now: () => Date): TlsSource {
  const files = { cert: ca.paths.hostCert, key: ca.paths.hostKey };
  return {
    kind: 'local-ca',
    files,
    ca,
    watch(onChange) {
      // One renewal at a time (two would write the same files), and none reported once stopped.
      let renewing = false;
      let stopped = false;
      const check = async () => {
        renewing = true;
        try {
          if ((await renewHostCertificate(ca, opts.names(), opts.log, now())) && !stopped) onChange(files);
        } catch (err) {
          opts.log.error('cannot renew the host certificate', { err });
        } finally {
          renewing = false;
        }
      };
      const timer = setInterval(() => void (renewing || check()), opts.renewEveryMs ?? DEFAULT_RENEW_EVERY_MS);
      timer.unref();
      return () => {
        stopped = true;
        clearInterval(timer);
      };
    },
  };
}

function ownSource(files: TlsFiles, opts: TlsSourceOptions, now: () => Date): TlsSource {
  const first = readPair(files);
  if ('problem' in first) {
    throw new Error(`--tls-cert ${files.cert} and --tls-key ${files.key} cannot be used: ${first.problem}`);
  }
  describe(first.cert, files, opts.log, now());
  return {
    kind: 'own',
    files,
    watch(onChange) {
      let loaded = first.digest;
      let reported = '';
      const check = () => {
        const pair = readPair(files);
        if ('problem' in pair) {
          // Said once per state of the files, not at every poll while a tool is still writing.
          if (pair.problem !== reported) opts.log.warn('the new TLS files are not usable yet; still serving the previous ones', { problem: pair.problem });
          reported = pair.problem;
          return;
        }
        reported = '';
        if (pair.digest === loaded) return;
        loaded = pair.digest;
        describe(pair.cert, files, opts.log, now());
        onChange(files);
      };
      const interval = opts.pollMs ?? DEFAULT_POLL_MS;
      for (const path of [files.cert, files.key]) watchFile(path, { interval, persistent: false }, check);
      return () => {
        for (const path of [files.cert, files.key]) unwatchFile(path, check);
      };
    },
  };
}

type Pair = { cert: X509Certificate; digest: string } | { problem: string };

function readPair(files: TlsFiles): Pair {
  let certPem: Buffer;
  let keyPem: Buffer;
  try {
    certPem = readFileSync(files.cert);
    keyPem = readFileSync(files.key);
  } catch (err) {
    return { problem: (err as Error).message };
  }
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return { problem: 'the key does not belong to the certificate (the first one in the file)' };
    return { cert, digest: createHash('sha256').update(certPem).update(keyPem).digest('hex') };
  } catch (err) {
    return { problem: `not a PEM certificate and private key (${(err as Error).message})` };
  }
}

function describe(cert: X509Certificate, files: TlsFiles, log: Logger, now: Date): void {
  const left = Date.parse(cert.validTo) - now.getTime();
  const fields = { cert: files.cert, names: cert.subjectAltName ?? cert.subject, validTo: cert.validTo };
  if (left <= 0) log.warn('the TLS certificate has expired: browsers will refuse it; renew it (the host reloads it by itself)', fields);
  else if (left < OWN_WARN_BEFORE_MS) log.warn('the TLS certificate expires soon; renew it (the host reloads it by itself)', fields);
  else log.info('using your TLS certificate', fields);
}
