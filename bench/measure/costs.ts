/**
 * Where the relay's CPU goes: the operations every delivery and every handshake pays for, through
 * the same primitives.ts calls, on each Noise backend — noble (pure JS, what phones run) and
 * node:crypto (what the host runs, host/crypto/node-backend.ts) — measured in this process.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { nodeBackend } from '../../host/crypto/node-backend.ts';
import { nobleBackend, noiseBackend, useNoiseBackend, type NoiseBackend } from '../../shared/noise/backend.ts';
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

function measure(backend: NoiseBackend, event: Uint8Array) {
  const previous = noiseBackend();
  useNoiseBackend(backend);
  try {
    const key = randomBytes(32);
    const ad = new Uint8Array(0);
    let n = 0n;
    const a = generateKeyPair();
    const b = generateKeyPair();
    return {
      seal: timeUs(2000, () => void encrypt(key, n++, ad, event)),
      dh: timeUs(100, () => void dh(a, b.publicKey)),
      generate: timeUs(100, () => void generateKeyPair()),
    };
  } finally {
    useNoiseBackend(previous);
  }
}

export const costs: Measurement = {
  id: 'costs',
  title: 'Where the time goes: the primitives per delivery and per handshake',
  budgetMs: 30_000,
  async run() {
    const s = section(this.id, this.title);
    const event = encodeMessage({
      t: 'event',
      seq: 1,
      event: { type: 'message.text.delta', sessionId: 'ses_bench0000000000000000', messageId: 'msg_bench0000000000000000', partId: 'prt_1700000000000.123', delta: 'x'.repeat(40) },
    });
    const noble = measure(nobleBackend, event);
    const native = measure(nodeBackend, event);

    s.data = { eventBytes: event.length, noble, node: native };
    s.tables.push({
      title: 'Microseconds per operation through shared/noise/primitives.ts (best of 5 rounds, this process)',
      columns: ['operation', 'noble, pure JS (phones)', 'node:crypto (the host)', 'ratio'],
      rows: [
        [`ChaCha20-Poly1305 seal of one ${event.length}-byte event`, noble.seal, native.seal, `${(noble.seal / native.seal).toFixed(1)}×`],
        ['X25519 DH (a handshake does 4 per side)', noble.dh, native.dh, `${(noble.dh / native.dh).toFixed(1)}×`],
        ['X25519 key generation (1 per side)', noble.generate, native.generate, `${(noble.generate / native.generate).toFixed(1)}×`],
      ],
    });
    return s;
  },
};
