/**
 * What the host bundle gets in place of `@noble/curves/ed25519.js` and `@noble/ciphers/chacha.js`
 * (scripts/build-host.mjs aliases them here). The host installs native crypto
 * (./node-backend.ts) before any Noise operation, so shared/noise/backend.ts's noble default is
 * never called on the host; loading it anyway cost an idle host about 10 MB of its memory.
 * @module
 */
const leftOut = (name: string) => () => {
  throw new Error(`${name} is left out of the host bundle: install host/crypto/node-backend.ts with useNoiseBackend() first`);
};

export const x25519 = {
  getPublicKey: leftOut('x25519'),
  getSharedSecret: leftOut('x25519'),
  utils: { randomSecretKey: leftOut('x25519') },
};

export const chacha20poly1305 = leftOut('chacha20poly1305');
