import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UNAVAILABLE_REASON_MAX } from '../../shared/protocol/sessions-list.ts';
import { failureReason } from './failure-reason.ts';

/** As the bridge's calls reject: their own error around the SDK's, which carries the runtime's answer. */
const failed = (message: string, body?: unknown) => new Error(`list sessions in /w failed: ${message}`, { cause: new Error(message, { cause: { body, status: 400 } }) });

test('a broken opencode.json is said plainly, not quoted', () => {
  const json = { name: 'ConfigJsonError', data: { path: '/w/opencode.json', message: '\n--- JSONC Input ---\n{ not json\n--- End ---' } };
  assert.equal(failureReason(failed(json.data.message, json)), '/w/opencode.json is not valid JSON; fix it, then restart the host');
  const issues = [1, 2, 3, 4].map((n) => ({ path: ['provider', `p${n}`], message: `bad ${n}` }));
  const invalid = { name: 'ConfigInvalidError', data: { path: '/w/opencode.json', issues } };
  assert.equal(
    failureReason(failed('ConfigInvalidError', invalid)),
    '/w/opencode.json has invalid settings (provider.p1: bad 1; provider.p2: bad 2; provider.p3: bad 3; …); fix it, then restart the host',
  );
  assert.equal(
    failureReason(failed('ConfigInvalidError', { ...invalid, data: { path: '/w/opencode.json' } })),
    '/w/opencode.json has invalid settings; fix it, then restart the host',
  );
});

test('other failures: the runtime’s message (its first line, clipped), or that it did not answer in time', () => {
  assert.equal(failureReason(failed('Unexpected server error.', { name: 'UnknownError', data: { message: 'Unexpected server error.' } })), 'Unexpected server error.');
  assert.equal(failureReason(failed('\n  first line\nsecond line')), 'first line');
  const long = failureReason(failed('x'.repeat(5000)));
  assert.equal(long.length, UNAVAILABLE_REASON_MAX);
  assert.ok(long.endsWith('…'));
  const timeout = new Error('list sessions failed: The operation was aborted due to timeout', {
    cause: new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
  });
  assert.equal(failureReason(timeout), 'the coding runtime did not answer in time');
  assert.equal(failureReason('plain text'), 'plain text');
  assert.equal(failureReason(new Error('')), 'the coding runtime gave no reason');
});
