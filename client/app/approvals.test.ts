import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoAnswer, relativePath, sessionGrantWords } from './approvals.ts';

test('a waiting request says when the host will deny it, down to "now"; no deadline, nothing said', () => {
  const t = 1_700_000_000_000;
  assert.equal(autoAnswer(t + 272_000, 'vm', t), 'If nobody answers, vm denies it in 4:32.');
  assert.equal(autoAnswer(t + 5_001, 'vm', t), 'If nobody answers, vm denies it in 0:06.');
  assert.equal(autoAnswer(t + 2 * 3600_000 + 61_000, 'vm', t), 'If nobody answers, vm denies it in 2:01:01.');
  assert.equal(autoAnswer(t, 'vm', t), 'Nobody answered in time: vm is denying it now.');
  assert.equal(autoAnswer(undefined, 'vm', t), undefined);
});

test('"Always allow for this session" says in words what it covers, paths relative to the workspace', () => {
  assert.equal(sessionGrantWords({ permission: 'edit', always: ['*'], patterns: ['/w/src/a.ts'] }), 'every file edit in this session');
  assert.equal(sessionGrantWords({ permission: 'bash', always: ['git log *'], patterns: ['git log -3'] }), 'commands matching “git log *” in this session');
  assert.equal(sessionGrantWords({ permission: 'edit', always: [], patterns: ['/w/src/a.ts'] }, '/w'), 'edits of “src/a.ts” in this session');
  assert.equal(sessionGrantWords({ permission: 'mystery', always: [], patterns: [] }), 'every “mystery” request in this session');
  assert.equal(relativePath('/w/src/a.ts', '/w/'), 'src/a.ts');
  assert.equal(relativePath('/elsewhere/a.ts', '/w'), '/elsewhere/a.ts');
  assert.equal(relativePath('/wx/a.ts', '/w'), '/wx/a.ts', 'a sibling folder is not inside');
});
