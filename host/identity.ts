/**
 * The host's static X25519 key, in `<data-dir>/host-key.json` (mode 0600 in a 0700 directory).
 * It is the host's identity: every paired device pins its public half, so losing it means
 * pairing every device again, and leaking it lets someone impersonate the host. The host
 * therefore refuses to start when the file is readable by others or damaged, instead of quietly
 * making a new key.
 * @module
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes } from '../shared/noise/bytes.ts';
import { generateKeyPair, keyPairFromSecretKey, type KeyPair } from '../shared/noise/primitives.ts';
import { fromBase64url, toBase64url } from '../shared/encoding.ts';
import { int, obj, str } from '../shared/protocol/guard.ts';
import { hostIdOf } from '../shared/pairing/keys.ts';
import type { Logger } from './log.ts';

export const HOST_KEY_FILE = 'host-key.json';

export interface HostIdentity {
  keyPair: KeyPair;
  publicKey: Uint8Array;
  /** The first 16 Crockford base32 characters of SHA-256(public key). */
  hostId: string;
}

export function loadOrCreateIdentity(dataDir: string, log: Logger): HostIdentity {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, HOST_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${path}: ${(err as Error).message}`);
    return create(path, log);
  }
  checkPrivate(path);
  const keyPair = parse(text, path);
  return identity(keyPair);
}

function create(path: string, log: Logger): HostIdentity {
  const keyPair = generateKeyPair();
  const file = { version: 1, publicKey: toBase64url(keyPair.publicKey), secretKey: toBase64url(keyPair.secretKey), createdAt: new Date().toISOString() };
  // 'wx': never overwrite a key another process created in the meantime.
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  const id = identity(keyPair);
  log.info('created a new host key', { path, hostId: id.hostId });
  return id;
}

function checkPrivate(path: string): void {
  if (process.platform === 'win32') return; // no POSIX modes; the profile directory's ACL applies
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(
      `${path} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); it holds the host's private key. ` +
        `Run \`chmod 600 ${path}\` and start again. If others may have copied it, move it away instead ` +
        '(the host makes a new key and every device pairs again).',
    );
  }
}

function parse(text: string, path: string): KeyPair {
  try {
    const o = obj(JSON.parse(text), 'host-key.json');
    if (int(o, 'version', 'host-key.json') !== 1) throw new RangeError('host-key.json.version: expected 1');
    const keyPair = keyPairFromSecretKey(fromBase64url(str(o, 'secretKey', 'host-key.json'), 'host-key.json.secretKey'));
    if (!equalBytes(keyPair.publicKey, fromBase64url(str(o, 'publicKey', 'host-key.json'), 'host-key.json.publicKey'))) {
      throw new RangeError('host-key.json.publicKey: does not belong to secretKey');
    }
    return keyPair;
  } catch (err) {
    throw new Error(
      `${path} is damaged (${err instanceof Error ? err.message : String(err)}). Restore it from a backup, or move it ` +
        'away to give this host a new identity (every device will have to pair again).',
    );
  }
}

function identity(keyPair: KeyPair): HostIdentity {
  return { keyPair, publicKey: keyPair.publicKey, hostId: hostIdOf(keyPair.publicKey) };
}
