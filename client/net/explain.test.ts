import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayClosedError, RequestError } from '../../shared/channel/client.ts';
import { OfferError } from '../../shared/pairing/link.ts';
import { ConnectTimeout, NotConnected, explainConnection, explainPairing, explainRequest } from './explain.ts';

test('pairing failures say what happened and what to do', () => {
  assert.match(explainPairing(new RelayClosedError('pair.declined', 4410, 'pair.declined: no'), 'Desk').message, /Desk declined this phone.*new pairing code/);
  assert.match(explainPairing(new OfferError('expired', 'link', 'x'), 'Desk').message, /expired.*press p/);
  assert.equal(explainPairing(new RelayClosedError('pair.used', 4409, ''), 'Desk').code, 'pair.used');
  assert.match(explainPairing(new ConnectTimeout('ws://x'), 'Desk').message, /Cannot reach Desk.*same network/);
});

test('connection and request failures are explained without raw codes', () => {
  assert.match(explainConnection(new RelayClosedError('device.revoked', 4403, ''), 'Desk').message, /removed from Desk\. Pair again/);
  assert.equal(explainConnection(new RelayClosedError(undefined, 1006, ''), 'Desk').message, 'Cannot reach Desk');
  assert.match(explainRequest(new RequestError('runtime.not-ready', 'x')), /not ready yet/);
  assert.match(explainRequest(new NotConnected('Desk')), /Not connected to Desk/);
});
