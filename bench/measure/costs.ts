/**
 * Where the relay's CPU goes, for the closing note: the two primitives every delivery and every
 * handshake pays for, as the host computes them now (pure-JS @noble via shared/noise) and as
 * Node's own OpenSSL would (node:crypto), measured in this process.
 * @module
 */
import { createCipheriv, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { dh, encrypt, generateKeyPair } from '../../shared/noise/primitives.ts';
import { encodeMessage } from '../../shared/protocol/messages.ts';
import type { Measurement } from '../lib/context.ts';
import { section } from '../lib/report.ts';

/** Microseconds per call: the best of five rounds of `n` calls (after a warm-up round). */
function timeUs(n: number, fn: () => void): number {
  let bestUs = Infinity;
  for (let round = 0; round < 6; round++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    if (round > 0) bestUs = Math.min(bestUs, ((performance.now() - t) * 1000) / n);
  }
  return bestUs;
}

export const costs: Measurement = {
  id: 'costs',
  title: 'Where the time goes: the primitives per delivery and per handshake',
  budgetMs: 30_000,
  async run() {
    const s = section(this.id, this.title);
    const event = encodeMessage({ t: 'event', seq: 1, event: { type: 'message.text.delta', sessionId: 'ses_bench0000000000000000', messageId: 'msg_bench0000000000000000', partId: 'prt_bench0000000000000000', delta: 'x'.repeat(40), i: 1, sentAt: 0 } });
    const key = randomBytes(32);
    const ad = new Uint8Array(0);
    let n = 0n;
    const nobleSeal = timeUs(2000, () => void encrypt(key, n++, ad, event));
    const nonce = Buffer.alloc(12);
    const nodeSeal = timeUs(2000, () => {
      const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      c.update(event);
      c.final();
      c.getAuthTag();
    });
    const a = generateKeyPair();
    const b = generateKeyPair();
    const nobleDh = timeUs(100, () => void dh(a, b.publicKey));
    const { privateKey } = generateKeyPairSync('x25519');
    const { publicKey } = generateKeyPairSync('x25519');
    const nodeDh = timeUs(100, () => void diffieHellman({ privateKey, publicKey }));

    s.data = { eventBytes: event.length, sealUs: { noble: nobleSeal, node: nodeSeal }, x25519Us: { noble: nobleDh, node: nodeDh } };
    s.tables.push({
      title: 'Microseconds per operation (best of 5 rounds, this process)',
      columns: ['operation', 'now (@noble, pure JS)', 'node:crypto (OpenSSL)', 'ratio'],
      rows: [
        [`ChaCha20-Poly1305 seal of one ${event.length}-byte event`, nobleSeal, nodeSeal, `${(nobleSeal / nodeSeal).toFixed(1)}×`],
        ['X25519 (a handshake does 4 per side, plus a key generation)', nobleDh, nodeDh, `${(nobleDh / nodeDh).toFixed(1)}×`],
      ],
    });
    return s;
  },
};
