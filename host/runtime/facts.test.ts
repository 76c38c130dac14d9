import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';
import { createRuntimeFacts } from './facts.ts';

const updated = (sessionId: string, directory: string): RelayRuntimeEvent => ({ type: 'session.updated', sessionId, title: 't', directory, createdAt: 1, updatedAt: 1 });
const asked = (requestId: string, sessionId: string): RelayRuntimeEvent => ({
  type: 'permission.asked',
  requestId,
  sessionId,
  permission: 'bash',
  patterns: [],
  always: [],
  metadata: {},
});

test('directories and request sessions are learnt from events and forgotten when the runtime ends them', () => {
  const facts = createRuntimeFacts();
  facts.observe(updated('ses_a', '/ws/a'));
  facts.observe(asked('per_1', 'ses_a'));
  facts.learnDirectory('ses_b', '/ws/b');
  assert.equal(facts.directoryOf('ses_a'), '/ws/a');
  assert.equal(facts.directoryOf('ses_b'), '/ws/b');
  assert.equal(facts.sessionOfRequest('per_1'), 'ses_a');
  facts.observe({ type: 'permission.replied', requestId: 'per_1', sessionId: 'ses_a', reply: 'once' });
  facts.observe({ type: 'session.deleted', sessionId: 'ses_a' });
  assert.equal(facts.sessionOfRequest('per_1'), undefined);
  assert.equal(facts.directoryOf('ses_a'), undefined);
});

test('each kind of fact is bounded: the oldest is forgotten first', () => {
  const facts = createRuntimeFacts(2);
  for (const id of ['a', 'b', 'c']) facts.observe(updated(`ses_${id}`, `/ws/${id}`));
  for (const id of ['1', '2', '3']) facts.observe(asked(`per_${id}`, 'ses_c'));
  assert.deepEqual(
    ['ses_a', 'ses_b', 'ses_c'].map((s) => facts.directoryOf(s)),
    [undefined, '/ws/b', '/ws/c'],
  );
  assert.deepEqual(
    ['per_1', 'per_2', 'per_3'].map((r) => facts.sessionOfRequest(r)),
    [undefined, 'ses_c', 'ses_c'],
  );
});
