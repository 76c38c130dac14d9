/**
 * The three ways a connection to `/relay` starts (docs/protocol.md, "Handshakes"): the first
 * binary message is a mode byte and, for the two Noise modes, Noise message 1. Both sides build
 * their HandshakeState here so the patterns and prologues cannot drift apart.
 * @module
 */
import { concatBytes } from '../noise/bytes.ts';
import { HandshakeState } from '../noise/handshake.ts';
import type { KeyPair } from '../noise/primitives.ts';

export const MODE = { pair: 0x01, reconnect: 0x02, hostKey: 0x03 } as const;
export type HandshakeMode = typeof MODE.pair | typeof MODE.reconnect;

export const PROTOCOL_NAMES: Record<HandshakeMode, string> = {
  [MODE.pair]: 'Noise_IKpsk2_25519_ChaChaPoly_SHA256',
  [MODE.reconnect]: 'Noise_IK_25519_ChaChaPoly_SHA256',
};

const PROLOGUE = new TextEncoder().encode('openwork-relay/1');

/** "openwork-relay/1" ‖ mode: a handshake made for one mode fails in the other. */
export function prologueFor(mode: HandshakeMode): Uint8Array {
  return concatBytes(PROLOGUE, Uint8Array.of(mode));
}

/** The device's side: `psk` for pairing, none for reconnecting. */
export function deviceHandshake(mode: HandshakeMode, deviceKey: KeyPair, hostKey: Uint8Array, psk?: Uint8Array): HandshakeState {
  return new HandshakeState({
    protocolName: PROTOCOL_NAMES[mode],
    role: 'initiator',
    prologue: prologueFor(mode),
    s: deviceKey,
    rs: hostKey,
    ...(mode === MODE.pair ? { psks: [required(psk)] } : {}),
  });
}

/** The host's side. */
export function hostHandshake(mode: HandshakeMode, hostKey: KeyPair, psk?: Uint8Array): HandshakeState {
  return new HandshakeState({
    protocolName: PROTOCOL_NAMES[mode],
    role: 'responder',
    prologue: prologueFor(mode),
    s: hostKey,
    ...(mode === MODE.pair ? { psks: [required(psk)] } : {}),
  });
}

function required(psk: Uint8Array | undefined): Uint8Array {
  if (!(psk instanceof Uint8Array)) throw new TypeError('psk: pairing needs the pre-shared key from the offer');
  return psk;
}
