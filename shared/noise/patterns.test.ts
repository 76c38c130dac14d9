import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePattern, parseProtocolName } from './patterns.ts';

test('psk modifiers insert "psk" where §9.2 says', () => {
  assert.deepEqual(parsePattern('NNpsk0').messages, [
    ['psk', 'e'],
    ['e', 'ee'],
  ]);
  assert.deepEqual(parsePattern('XXpsk3').messages, [['e'], ['e', 'ee', 's', 'es'], ['s', 'se', 'psk']]);
  assert.deepEqual(parsePattern('IKpsk1').messages, [
    ['e', 'es', 's', 'ss', 'psk'],
    ['e', 'ee', 'se'],
  ]);
  assert.deepEqual(parsePattern('IKpsk2').messages, [
    ['e', 'es', 's', 'ss'],
    ['e', 'ee', 'se', 'psk'],
  ]);
  assert.deepEqual(parsePattern('KKpsk0').messages, [
    ['psk', 'e', 'es', 'ss'],
    ['e', 'ee', 'se'],
  ]);
  assert.deepEqual(parsePattern('KKpsk2').messages, [
    ['e', 'es', 'ss'],
    ['e', 'ee', 'se', 'psk'],
  ]);
  assert.deepEqual(parsePattern('NNpsk0+psk2').messages, [
    ['psk', 'e'],
    ['e', 'ee', 'psk'],
  ]);
  assert.equal(parsePattern('NNpsk0+psk2').pskCount, 2);
  assert.equal(parsePattern('XX').pskCount, 0);
});

test('pre-messages', () => {
  assert.deepEqual(parsePattern('IK').responderPreMessage, ['s']);
  assert.deepEqual(parsePattern('IK').initiatorPreMessage, []);
  assert.deepEqual(parsePattern('KK').initiatorPreMessage, ['s']);
  assert.deepEqual(parsePattern('NK').responderPreMessage, ['s']);
});

test('modifying a pattern does not alter the base table', () => {
  parsePattern('NNpsk0');
  assert.deepEqual(parsePattern('NN').messages, [['e'], ['e', 'ee']]);
});

test('parseProtocolName accepts the suite and explains what it rejects', () => {
  assert.equal(parseProtocolName('Noise_IKpsk2_25519_ChaChaPoly_SHA256').name, 'IKpsk2');
  const rejects: [string, RegExp][] = [
    ['Noise_XK_25519_ChaChaPoly_SHA256', /unsupported handshake pattern "XK"/],
    ['Noise_N_25519_ChaChaPoly_SHA256', /unsupported handshake pattern "N"/],
    ['Noise_XXfallback_25519_ChaChaPoly_SHA256', /unsupported modifier "fallback"/],
    ['Noise_NNpsk3_25519_ChaChaPoly_SHA256', /"psk3" .* out of range/],
    ['Noise_NNpsk0+psk0_25519_ChaChaPoly_SHA256', /duplicate modifier "psk0"/],
    ['Noise_NNpsk01_25519_ChaChaPoly_SHA256', /unsupported modifier "psk01"/],
    ['Noise_XX_448_ChaChaPoly_SHA256', /unsupported cipher suite "448_ChaChaPoly_SHA256"/],
    ['Noise_XX_25519_AESGCM_SHA256', /unsupported cipher suite/],
    ['Noise_XX_25519_ChaChaPoly_SHA256_extra', /unsupported cipher suite/],
    ['NoiseXX', /not of the form/],
    ['Nois_XX_25519_ChaChaPoly_SHA256', /not of the form/],
  ];
  for (const [name, message] of rejects) assert.throws(() => parseProtocolName(name), { name: 'RangeError', message }, name);
  assert.throws(() => parseProtocolName(42 as unknown as string), TypeError);
});
