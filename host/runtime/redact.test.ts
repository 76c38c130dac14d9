import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../shared/protocol/messages.ts';
import { REDACTED, createRedactor, runtimeSecrets } from './redact.ts';

const PASSWORD = 'pA55-word_with+url/safe';
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

test('the password and its basic-auth token are replaced wherever they occur, and the JSON stays valid', () => {
  const redact = createRedactor(runtimeSecrets(PASSWORD));
  const token = Buffer.from(`opencode:${PASSWORD}`).toString('base64');
  const message = encodeMessage({
    t: 'event',
    seq: 1,
    event: {
      type: 'tool.updated',
      sessionId: 's',
      messageId: 'm',
      partId: 'p',
      callId: 'c',
      tool: 'bash',
      status: 'completed',
      input: {},
      output: `P=${PASSWORD}\n${PASSWORD}${PASSWORD}\nauth_token=${token}`,
    },
  });
  const out = JSON.parse(decode(redact(message))) as { event: { output: string } };
  assert.equal(out.event.output.includes(PASSWORD), false);
  assert.equal(out.event.output.includes(token.replace(/=+$/, '')), false);
  assert.equal(out.event.output.split(REDACTED).length - 1, 4);
});

test('a message without the password is passed on as it is', () => {
  const redact = createRedactor(runtimeSecrets(PASSWORD));
  const message = encodeMessage({ t: 'event', seq: 2, event: { type: 'session.idle', sessionId: 's' } });
  assert.equal(redact(message), message);
});

test('no password, nothing to redact', () => {
  assert.deepEqual(runtimeSecrets(undefined), []);
  const message = encodeMessage({ t: 'event', seq: 3, event: { type: 'runtime.reconnected' } });
  assert.equal(createRedactor([])(message), message);
});
