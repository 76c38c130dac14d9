import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestError } from '../../shared/channel/client.ts';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import { createApprovals } from './approvals.ts';

const bashRequest = (id: string): PermissionAskedEvent => ({
  type: 'permission.asked',
  requestId: id,
  sessionId: 'ses_a',
  permission: 'bash',
  patterns: ['ls'],
  always: [],
  metadata: {},
});

test('a reply the host refuses as expired is not reported as done: it rejects and the request shows as expired', async () => {
  const refusal = new RequestError('permission.expired', 'permission request per_2 expired (runtime-restarted); the answer was not delivered', {
    reason: 'runtime-restarted',
    at: 5,
    detail: 'exit code 1',
  });
  const approvals = createApprovals({ request: () => Promise.reject(refusal), attachDiff: () => {} });
  approvals.asked(bashRequest('per_2'));
  await assert.rejects(approvals.reply(approvals.permissions()[0]!, 'once'), /not delivered/);
  assert.deepEqual(
    approvals.expired().map((e) => [e.request.requestId, e.reason]),
    [['per_2', 'the OpenCode runtime restarted (exit code 1) and no longer has this request']],
    'why, from the code the host sent',
  );
  assert.deepEqual(approvals.permissions(), []);
});
