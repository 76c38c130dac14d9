/**
 * The host's VAPID key pair (RFC 8292), made once and kept in `<data-dir>/push-vapid.json`
 * (0600). Browsers tie each push subscription to the public key it was made with, so a new key
 * would silently orphan every device's subscription: the file is created once and never replaced.
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { obj, str } from '../../shared/protocol/guard.ts';
import { readFileIfExists } from '../files.ts';
import type { Logger } from '../log.ts';

export const VAPID_FILE = 'push-vapid.json';

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url: what a browser's `applicationServerKey` takes. */
  publicKey: string;
  privateKey: string;
}

export function loadOrCreateVapidKeys(dataDir: string, log: Pick<Logger, 'info'>): VapidKeys {
  const path = join(dataDir, VAPID_FILE);
  const text = readFileIfExists(path);
  if (text !== undefined) return parse(text, path);
  const keys = generateVapidKeys();
  // 'wx': never overwrite keys another process made in the meantime.
  writeFileSync(path, `${JSON.stringify({ version: 1, ...keys, createdAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  log.info('created the key that signs notifications', { path });
  return { publicKey: keys.publicKey, privateKey: keys.privateKey };
}

/**
 * A new P-256 key pair in the form `web-push` signs with. Made with node:crypto rather than
 * web-push's own helper, so that the host loads web-push (and its JWT and ASN.1 dependencies,
 * about 3 MB of memory) only when it first sends a notification.
 */
function generateVapidKeys(): VapidKeys {
  // A JWK's coordinates and private scalar are always 32 bytes each (RFC 7518 §6.2.1), so no padding is needed.
  const { x, y, d } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.of(4), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')]);
  return { publicKey: point.toString('base64url'), privateKey: d! };
}

function parse(text: string, path: string): VapidKeys {
  try {
    const o = obj(JSON.parse(text), path);
    return { publicKey: str(o, 'publicKey', path, { min: 80, max: 100 }), privateKey: str(o, 'privateKey', path, { min: 40, max: 50 }) };
  } catch (err) {
    throw new Error(`${path} is damaged (${(err as Error).message}); move it away and start again (each device then turns notifications on again)`);
  }
}
