import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameAllowed, frameSummary, sseFrames } from './events.ts';

const frame = (event: object) => `data: ${JSON.stringify(event)}`;
const everywhere = () => true;

test('frames are split at blank lines, across chunks and CRLF', () => {
  const split = sseFrames();
  assert.deepEqual(split('data: {"a":1}\n\ndata: {"b"'), ['data: {"a":1}']);
  assert.deepEqual(split(':2}\r\n\r\n'), ['data: {"b":2}']);
  assert.deepEqual(split(''), []);
});

test('permission and question requests need approve; other events go to a reader', () => {
  const reader = { scopes: ['read' as const] };
  const approver = { scopes: ['read' as const, 'approve' as const] };
  for (const type of ['permission.asked', 'question.asked']) {
    assert.equal(frameAllowed(frame({ type, properties: { sessionID: 's' } }), reader, everywhere), false, type);
    assert.equal(frameAllowed(frame({ type, properties: { sessionID: 's' } }), approver, everywhere), true, type);
  }
  assert.equal(frameAllowed(frame({ type: 'message.part.updated', properties: {} }), reader, everywhere), true);
  assert.equal(frameAllowed(frame({ directory: '/w', payload: { type: 'permission.asked' } }), reader, everywhere), false, 'global events too');
});

test('a global event of another workspace is withheld; a broken frame is dropped, a comment passes', () => {
  const device = { scopes: ['read' as const] };
  const mine = (d: string) => d === '/mine';
  assert.equal(frameAllowed(frame({ directory: '/mine', payload: { type: 'session.idle' } }), device, mine), true);
  assert.equal(frameAllowed(frame({ directory: '/theirs', payload: { type: 'session.idle' } }), device, mine), false);
  assert.equal(frameAllowed('data: {not json', device, mine), false);
  assert.equal(frameAllowed(': keep-alive', device, mine), true);
});

test('the summary names the type and session, of plain and global events', () => {
  assert.deepEqual(frameSummary(frame({ type: 'session.idle', properties: { sessionID: 'ses_1' } })), { type: 'session.idle', sessionId: 'ses_1' });
  assert.deepEqual(frameSummary(frame({ directory: '/w', payload: { type: 'session.idle', properties: { sessionID: 'ses_2' } } })), { type: 'session.idle', sessionId: 'ses_2' });
  assert.equal(frameSummary(': comment'), undefined);
});
