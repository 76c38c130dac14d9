import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../log.ts';
import { openPartialTexts } from './partials.ts';

type TestContext = { after(fn: () => void): void };

function tempDir(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'owr-partials-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return join(root, 'partials');
}

const ref = { sessionId: 'ses_1', messageId: 'msg_2', partId: 'prt_1' };
/** What OpenCode stores while (or after) it streamed an answer: the text part is still empty. */
const stored = (completed?: number) => [
  { info: { id: 'msg_1', role: 'user', time: { created: 1 } }, parts: [{ id: 'prt_0', type: 'text', text: 'write it' }] },
  {
    info: { id: 'msg_2', role: 'assistant', time: { created: 2, ...(completed ? { completed } : {}) } },
    parts: [
      { id: 'prt_s', type: 'step-start' },
      { id: 'prt_1', type: 'text', text: '' },
    ],
  },
];
const textOf = (messages: unknown) => ((messages as ReturnType<typeof stored>)[1]!.parts[1] as { text: string }).text;

test('streamed text is filled into an unfinished reply, and survives a host restart', (t) => {
  const dir = tempDir(t);
  const a = openPartialTexts({ dir, log: silentLogger });
  a.observe({ type: 'message.text.updated', ...ref, text: '', done: false });
  for (const w of ['w0 ', 'w1 ', 'w2 ']) a.observe({ type: 'message.text.delta', ...ref, delta: w });
  assert.equal(textOf(a.fill('ses_1', stored())), 'w0 w1 w2 ');
  assert.equal(textOf(stored()), '', 'the stored messages are not changed in place');
  a.close(); // Ctrl-C: what was streamed is written
  assert.equal(statSync(join(dir, 'ses_1.json')).mode & 0o777, 0o600);

  const b = openPartialTexts({ dir, log: silentLogger });
  assert.equal(textOf(b.fill('ses_1', stored())), 'w0 w1 w2 ', 'the next host still has it');
  assert.equal(textOf(b.fill('ses_1', stored(5))), '', 'a completed reply is as the runtime stored it');
  assert.deepEqual(b.fill('ses_2', stored()), stored(), 'another session is untouched');
  b.close();
});

test('a reply that ends drops its text; a longer stored text wins; bad ids and old files are left alone', (t) => {
  const dir = tempDir(t);
  const p = openPartialTexts({ dir, log: silentLogger, flushMs: 5 });
  p.observe({ type: 'message.text.delta', ...ref, delta: 'w0 ' });
  const longer = stored();
  (longer[1]!.parts[1] as { text: string }).text = 'w0 w1 w2 w3 ';
  assert.equal(textOf(p.fill('ses_1', longer)), 'w0 w1 w2 w3 ');
  p.observe({ type: 'message.updated', sessionId: 'ses_1', messageId: 'msg_2', time: { completed: 9 } });
  assert.equal(textOf(p.fill('ses_1', stored())), '');
  p.close();
  assert.equal(existsSync(join(dir, 'ses_1.json')), false, 'nothing left to keep: the file goes');

  p.observe({ type: 'message.text.delta', sessionId: '../x', messageId: 'msg_2', partId: 'prt_1', delta: 'no' });
  assert.equal(existsSync(join(dir, '..', 'x.json')), false, 'a session id that is not one never names a file');

  writeFileSync(join(dir, 'ses_old.json'), '{}');
  const old = (Date.now() - 8 * 24 * 3600_000) / 1000;
  utimesSync(join(dir, 'ses_old.json'), old, old);
  openPartialTexts({ dir, log: silentLogger }).close();
  assert.equal(existsSync(join(dir, 'ses_old.json')), false, 'past the retention');
});
