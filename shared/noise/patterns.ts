/**
 * Handshake patterns (Noise rev 34 §7) and the protocol-name parser (§8). Supports the
 * interactive patterns NN, NK, XX, IK, KK with any combination of `pskN` modifiers (§9.2), e.g.
 * NNpsk0, XXpsk3, IKpsk1, IKpsk2, KKpsk0, KKpsk2, over the one suite we implement.
 *
 * @module
 * @see https://noiseprotocol.org/noise.html#handshake-patterns Noise §7
 * @see https://noiseprotocol.org/noise.html#protocol-names-and-modifiers Noise §8
 * @see https://noiseprotocol.org/noise.html#pre-shared-symmetric-keys Noise §9
 */

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';

export interface HandshakePattern {
  /** Pattern name with modifiers, e.g. "IKpsk2". */
  readonly name: string;
  /** Keys the responder knows before the handshake (only "s" occurs in supported patterns). */
  readonly initiatorPreMessage: readonly 's'[];
  readonly responderPreMessage: readonly 's'[];
  /** Message i is sent by the initiator when i is even, by the responder when odd. */
  readonly messages: readonly (readonly Token[])[];
  /** Number of "psk" tokens, i.e. how many psks each party must supply. */
  readonly pskCount: number;
}

/** The only DH_CIPHER_HASH combination implemented (primitives.ts). */
export const SUITE = '25519_ChaChaPoly_SHA256';

type BasePattern = Omit<HandshakePattern, 'name' | 'pskCount'>;

// §7.4 (one-way patterns are left out: the pairing channel is interactive) and §7.5.
const BASE_PATTERNS: Readonly<Record<string, BasePattern>> = {
  NN: { initiatorPreMessage: [], responderPreMessage: [], messages: [['e'], ['e', 'ee']] },
  NK: {
    initiatorPreMessage: [],
    responderPreMessage: ['s'],
    messages: [
      ['e', 'es'],
      ['e', 'ee'],
    ],
  },
  XX: {
    initiatorPreMessage: [],
    responderPreMessage: [],
    messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']],
  },
  IK: {
    initiatorPreMessage: [],
    responderPreMessage: ['s'],
    messages: [
      ['e', 'es', 's', 'ss'],
      ['e', 'ee', 'se'],
    ],
  },
  KK: {
    initiatorPreMessage: ['s'],
    responderPreMessage: ['s'],
    messages: [
      ['e', 'es', 'ss'],
      ['e', 'ee', 'se'],
    ],
  },
};

/**
 * Parses "Noise_<pattern>_25519_ChaChaPoly_SHA256" into its handshake pattern.
 * Throws a RangeError naming what is unsupported.
 */
export function parseProtocolName(protocolName: string): HandshakePattern {
  if (typeof protocolName !== 'string') throw new TypeError('protocolName: expected a string');
  const parts = protocolName.split('_');
  if (parts.length < 3 || parts[0] !== 'Noise') {
    throw new RangeError(`protocolName: "${protocolName}" is not of the form Noise_<pattern>_${SUITE}`);
  }
  const suite = parts.slice(2).join('_');
  if (suite !== SUITE) {
    throw new RangeError(`protocolName: unsupported cipher suite "${suite}"; only ${SUITE} is implemented`);
  }
  return parsePattern(parts[1]!);
}

/** Parses a pattern name such as "XX", "IKpsk2" or "NNpsk0+psk2" (§8: modifiers joined by "+"). */
export function parsePattern(name: string): HandshakePattern {
  // §8: the base name is upper case (and digits, for deferred patterns); modifiers are lower case.
  const match = /^([A-Z][A-Z0-9]*)(.*)$/.exec(name);
  const base = match ? BASE_PATTERNS[match[1]!] : undefined;
  if (!match || !base) {
    const known = Object.keys(BASE_PATTERNS).join(', ');
    throw new RangeError(`pattern: unsupported handshake pattern "${name}"; supported: ${known} (optionally with pskN)`);
  }
  const messages = base.messages.map((m) => [...m]);
  const seen = new Set<number>();
  for (const modifier of match[2] === '' ? [] : match[2]!.split('+')) {
    const psk = /^psk(0|[1-9][0-9]*)$/.exec(modifier);
    if (!psk) throw new RangeError(`pattern: unsupported modifier "${modifier}" in "${name}"; only pskN is supported`);
    const n = Number(psk[1]);
    if (n > messages.length) {
      throw new RangeError(`pattern: "${modifier}" in "${name}" is out of range; it has ${messages.length} messages`);
    }
    if (seen.has(n)) throw new RangeError(`pattern: duplicate modifier "${modifier}" in "${name}"`);
    seen.add(n);
    // §9.2: psk0 goes at the start of the first message, pskN at the end of message N.
    if (n === 0) messages[0]!.unshift('psk');
    else messages[n - 1]!.push('psk');
  }
  return {
    name,
    initiatorPreMessage: base.initiatorPreMessage,
    responderPreMessage: base.responderPreMessage,
    messages,
    pskCount: seen.size,
  };
}
