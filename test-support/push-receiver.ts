/**
 * A push service for tests (RFC 8030), on 127.0.0.1 only: it keeps each push it receives,
 * decrypts the RFC 8291 `aes128gcm` payload with the subscription keys it made as a browser
 * makes them (a P-256 key pair and a 16-byte auth secret), and checks the VAPID header
 * (RFC 8292): an ES256 JWT for this origin, signed by the key in `k`.
 * @module
 */
import { createECDH, createDecipheriv, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPush {
  path: string;
  headers: IncomingMessage['headers'];
  /** The decrypted payload, parsed as JSON. */
  payload: unknown;
  /** The VAPID key that signed it (base64url), after its signature was checked. */
  vapidKey: string;
  jwt: { aud: string; exp: number; sub: string };
}

export interface PushReceiver {
  origin: string;
  /** A subscription as `PushSubscription.toJSON()` gives it, for the endpoint `/push/<name>`. */
  subscription(name?: string): { endpoint: string; keys: { p256dh: string; auth: string } };
  received: ReceivedPush[];
  /** Pushes that could not be read (bad encryption or signature), with why. */
  rejected: string[];
  /** Statuses to answer the next pushes with, in order (then 201); 0: never answer (a service that hangs). */
  answers: number[];
  close(): Promise<void>;
}

export async function startPushReceiver(): Promise<PushReceiver> {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const received: ReceivedPush[] = [];
  const rejected: string[] = [];
  const answers: number[] = [];
  let origin = '';

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answers.shift() ?? 201;
      if (status === 0) return;
      try {
        const { key, jwt } = checkVapid(String(req.headers.authorization ?? ''), origin);
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`content-encoding ${req.headers['content-encoding']}`);
        const payload = JSON.parse(decrypt(Buffer.concat(chunks), ecdh, auth).toString('utf8'));
        if (status < 300) received.push({ path: req.url ?? '', headers: req.headers, payload, vapidKey: key, jwt });
      } catch (err) {
        rejected.push((err as Error).message);
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    subscription: (name = 'device') => ({
      endpoint: `${origin}/push/${name}`,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
    }),
    received,
    rejected,
    answers,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** RFC 8291 section 3.4 and RFC 8188: one record, keyed by ECDH with the sender's key in the header. */
function decrypt(body: Buffer, ecdh: ReturnType<typeof createECDH>, auth: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const idLength = body[20]!;
  const senderKey = body.subarray(21, 21 + idLength);
  const sealed = body.subarray(21 + idLength);
  const shared = ecdh.computeSecret(senderKey);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, auth, info, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const padded = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 2, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('no last-record delimiter');
  return padded.subarray(0, end);
}

/** `vapid t=<jwt>, k=<key>`: the JWT's ES256 signature checked against `k`, its audience against this origin. */
function checkVapid(header: string, origin: string): { key: string; jwt: ReceivedPush['jwt'] } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header);
  if (!m) throw new Error(`not a VAPID authorization: ${header.slice(0, 40)}`);
  const [head, body, signature] = m[1]!.split('.') as [string, string, string];
  const point = Buffer.from(m[2]!, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  const ok = verify('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!ok) throw new Error('the VAPID signature does not verify');
  if (JSON.parse(Buffer.from(head, 'base64url').toString()).alg !== 'ES256') throw new Error('the VAPID JWT is not ES256');
  const jwt = JSON.parse(Buffer.from(body, 'base64url').toString()) as ReceivedPush['jwt'];
  if (jwt.aud !== origin) throw new Error(`the VAPID audience is ${jwt.aud}, not ${origin}`);
  if (!(jwt.exp * 1000 > Date.now())) throw new Error('the VAPID JWT has expired');
  return { key: m[2]!, jwt };
}
