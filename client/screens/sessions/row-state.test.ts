import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROW_STATE_LABEL, ROW_STATES, rowState } from './row-state.ts';

test('an ended turn reads done or stopped; the other statuses read as themselves', () => {
  assert.equal(rowState('idle', undefined), 'done');
  assert.equal(rowState('idle', true), 'stopped');
  for (const s of ['running', 'waiting', 'failed', 'interrupted'] as const) assert.equal(rowState(s, true), s);
  assert.equal(new Set(ROW_STATES.map((s) => ROW_STATE_LABEL[s])).size, 6, 'six states, six names');
  assert.equal(ROW_STATE_LABEL.waiting, 'Waiting for you');
});
