import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoAnswer } from './approvals.ts';

test('a waiting request says when the host will deny it, down to "now"; no deadline, nothing said', () => {
  const t = 1_700_000_000_000;
  assert.equal(autoAnswer(t + 272_000, 'vm', t), 'If nobody answers, vm denies it in 4:32.');
  assert.equal(autoAnswer(t + 5_001, 'vm', t), 'If nobody answers, vm denies it in 0:06.');
  assert.equal(autoAnswer(t + 2 * 3600_000 + 61_000, 'vm', t), 'If nobody answers, vm denies it in 2:01:01.');
  assert.equal(autoAnswer(t, 'vm', t), 'Nobody answered in time: vm is denying it now.');
  assert.equal(autoAnswer(undefined, 'vm', t), undefined);
});
