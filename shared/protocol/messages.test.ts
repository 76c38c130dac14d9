import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostMessage } from './messages.ts';
import { ProtocolError } from './guard.ts';

test('a runtime message carries the providers that work, and a bad list is refused by name', () => {
  const m = parseHostMessage({ t: 'runtime', runtime: { state: 'ready', version: '1.18.33', providers: ['anthropic', 'opencode'] } });
  assert.deepEqual(m, { t: 'runtime', runtime: { state: 'ready', version: '1.18.33', error: undefined, providers: ['anthropic', 'opencode'] } });
  const without = parseHostMessage({ t: 'runtime', runtime: { state: 'starting' } });
  assert.ok(without.t === 'runtime' && !('providers' in without.runtime));
  assert.throws(() => parseHostMessage({ t: 'runtime', runtime: { state: 'ready', providers: 'anthropic' } }), (e: unknown) => e instanceof ProtocolError && /runtime\.providers/.test(e.message));
  assert.throws(() => parseHostMessage({ t: 'runtime', runtime: { state: 'ready', providers: [''] } }), ProtocolError);
});
