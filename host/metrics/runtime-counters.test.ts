import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countRuntimeEvents } from './runtime-counters.ts';

function recorder() {
  const counts = new Map<string, number>();
  return {
    counts,
    inc(name: string, labels?: Record<string, string>) {
      const key = labels ? `${name}${JSON.stringify(labels)}` : name;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
  };
}

test('a busy→idle turn is one started and one succeeded task', () => {
  const m = recorder();
  const on = countRuntimeEvents(m as never);
  on({ type: 'session.status', sessionId: 's', status: 'busy' });
  on({ type: 'session.status', sessionId: 's', status: 'busy' });
  on({ type: 'session.status', sessionId: 's', status: 'idle' });
  on({ type: 'session.idle', sessionId: 's' });
  assert.deepEqual(Object.fromEntries(m.counts), { tasks_started_total: 1, tasks_succeeded_total: 1 });
});

test('an error ends the turn as failed (by reason) or aborted, never also succeeded', () => {
  const m = recorder();
  const on = countRuntimeEvents(m as never);
  on({ type: 'session.status', sessionId: 'a', status: 'busy' });
  on({ type: 'session.error', sessionId: 'a', kind: 'provider-auth', name: 'ProviderAuthError', message: 'bad key' });
  on({ type: 'session.idle', sessionId: 'a' });
  on({ type: 'session.status', sessionId: 'b', status: 'busy' });
  on({ type: 'session.error', sessionId: 'b', kind: 'aborted', name: 'MessageAbortedError', message: '' });
  on({ type: 'session.error', sessionId: 'b', kind: 'aborted', name: 'MessageAbortedError', message: '' });
  on({ type: 'session.idle', sessionId: 'b' });
  assert.deepEqual(Object.fromEntries(m.counts), {
    tasks_started_total: 2,
    'tasks_failed_total{"reason":"ProviderAuthError"}': 1,
    tasks_aborted_total: 1,
  });
});

test('permission prompts and answers are counted', () => {
  const m = recorder();
  const on = countRuntimeEvents(m as never);
  on({ type: 'permission.asked', requestId: 'p', sessionId: 's', permission: 'bash', patterns: [], always: [], metadata: {} } as never);
  on({ type: 'permission.replied', requestId: 'p', sessionId: 's', reply: 'reject' });
  on({ type: 'permission.replied', requestId: 'q', sessionId: 's', reply: 'once' });
  assert.deepEqual(Object.fromEntries(m.counts), {
    permission_prompts_total: 1,
    'permission_answers_total{"answer":"reject"}': 1,
    'permission_answers_total{"answer":"once"}': 1,
  });
});
