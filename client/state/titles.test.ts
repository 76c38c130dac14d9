import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionTitle } from './titles.ts';

test('a session keeps the title OpenCode gave it', () => {
  assert.equal(sessionTitle('Fix the login form', 'please fix it'), 'Fix the login form');
});

test('until OpenCode names it, a session is called by the first words of its first prompt, never a timestamp', () => {
  const placeholder = 'New session - 2026-12-06T12:25:01.123Z';
  assert.equal(sessionTitle(placeholder, '  Add a  dark mode\nto settings '), 'Add a dark mode to settings');
  assert.equal(sessionTitle(placeholder, 'one two three four five six seven eight nine ten'), 'one two three four five six seven eight…');
  assert.equal(sessionTitle('Child session - 2026-12-06T12:25:01.123Z', undefined), 'New session');
  assert.equal(sessionTitle(undefined, undefined), 'New session');
});
