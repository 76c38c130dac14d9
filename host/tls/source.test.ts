import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, silentLogger } from '../log.ts';
import type { TlsFiles } from '../server/http.ts';
import { createCa, issueHostCertificate, type CertificateNames } from './certificates.ts';
import { tlsSetup } from './local-ca.ts';
import { openTlsSource } from './source.ts';

const names: CertificateNames = { dns: ['alices-mac.local', 'localhost'], ips: ['192.168.1.20', '127.0.0.1'] };
const WAIT_MS = 20_000;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'openwork-tls-source-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Resolves when `predicate` holds, checking after each call of the returned `poke`. */
function until<T>(predicate: () => T | undefined): { poke: () => void; done: Promise<T> } {
  let resolve!: (value: T) => void;
  const done = new Promise<T>((r) => (resolve = r));
  const timer = setTimeout(() => resolve(undefined as T), WAIT_MS);
  const poke = () => {
    const value = predicate();
    if (value !== undefined) {
      clearTimeout(timer);
      resolve(value);
    }
  };
  return { poke, done };
}

test('without own files or tls setup the host serves plain HTTP', async (t) => {
  assert.equal(await openTlsSource({ dataDir: tempDir(t), names: () => names, log: silentLogger }), undefined);
});

test('own files are checked at start: a key that does not belong to the certificate is refused with a fix', async (t) => {
  const dir = tempDir(t);
  const ca = await createCa({ commonName: 'mkcert' });
  const a = await issueHostCertificate({ ca, names });
  const b = await issueHostCertificate({ ca, names });
  writeFileSync(join(dir, 'cert.pem'), a.certPem);
  writeFileSync(join(dir, 'key.pem'), b.keyPem);
  await assert.rejects(
    openTlsSource({ dataDir: dir, own: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }, names: () => names, log: silentLogger }),
    /--tls-cert .*cert\.pem and --tls-key .*key\.pem cannot be used: the key does not belong to the certificate/,
  );
});

test('own files win over the local CA and are reloaded once a new, matching pair is in place', async (t) => {
  const dir = tempDir(t);
  await tlsSetup({ dataDir: dir, names, hostName: 'alices-mac', log: silentLogger });
  const ca = await createCa({ commonName: 'mkcert' });
  const files: TlsFiles = { cert: join(dir, 'own.crt'), key: join(dir, 'own.key') };
  const first = await issueHostCertificate({ ca, names });
  writeFileSync(files.cert, first.certPem);
  writeFileSync(files.key, first.keyPem);

  const lines: string[] = [];
  const changes: TlsFiles[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const source = (await openTlsSource({ dataDir: dir, own: files, names: () => names, log, pollMs: 20 }))!;
  assert.equal(source.kind, 'own');
  assert.deepEqual(source.files, files);
  assert.equal(source.ca, undefined, 'no local CA to offer with own files');

  const warned = until(() => lines.find((l) => l.includes('not usable yet')));
  const changed = until(() => (changes.length ? changes : undefined));
  const stop = source.watch((f) => {
    changes.push(f);
    changed.poke();
  });
  t.after(stop);
  // The warning is logged from inside the watcher: look for it often.
  const poll = setInterval(warned.poke, 10);
  t.after(() => clearInterval(poll));

  // A renewal tool writes the key first: the pair does not match until the certificate follows.
  const second = await issueHostCertificate({ ca, names });
  writeFileSync(files.key, second.keyPem);
  assert.ok(await warned.done, 'the half-written pair is noticed');
  assert.equal(changes.length, 0, 'and not loaded');

  writeFileSync(files.cert, second.certPem);
  assert.deepEqual(await changed.done, [files]);
  assert.equal(new X509Certificate(readFileSync(files.cert)).serialNumber, new X509Certificate(second.certPem).serialNumber);
});

test('with the local CA the host certificate is renewed at start and when the addresses change', async (t) => {
  const dir = tempDir(t);
  const { ca } = await tlsSetup({ dataDir: dir, names, hostName: 'alices-mac', log: silentLogger });
  let current: CertificateNames = { dns: names.dns, ips: ['10.0.0.5', ...names.ips] };
  const lines: string[] = [];
  const source = (await openTlsSource({ dataDir: dir, names: () => current, log: createLogger({ write: (l) => lines.push(l) }), renewEveryMs: 20 }))!;
  assert.equal(source.kind, 'local-ca');
  assert.equal(source.ca?.fingerprint, ca.fingerprint);
  assert.deepEqual(source.files, { cert: ca.paths.hostCert, key: ca.paths.hostKey });
  assert.ok(
    lines.some((l) => l.includes('re-issued the host certificate') && l.includes('10.0.0.5')),
    'renewed at start',
  );
  assert.ok(
    lines.some((l) => l.includes(ca.fingerprint)),
    'the fingerprint is printed at start',
  );
  const hostCert = () => new X509Certificate(readFileSync(ca.paths.hostCert));
  assert.equal(hostCert().checkIP('10.0.0.5'), '10.0.0.5');

  const changes: TlsFiles[] = [];
  const waiting = until(() => (changes.length ? changes : undefined));
  const stop = source.watch((f) => {
    changes.push(f);
    waiting.poke();
  });
  t.after(stop);
  current = { dns: names.dns, ips: ['172.16.4.4', ...names.ips] };
  assert.deepEqual(await waiting.done, [source.files]);
  assert.equal(hostCert().checkIP('172.16.4.4'), '172.16.4.4');
});
