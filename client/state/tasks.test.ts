/**
 * A new task from the sessions screen starts like a follow-up goes: with the chosen agent, model
 * and variant and with attached files, through the outbox on the phone's IndexedDB
 * (fake-indexeddb), and the choice becomes the new session's own.
 */
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestBody } from '../../shared/channel/client.ts';
import { fromBase64url } from '../../shared/encoding.ts';
import { NotConnected } from '../net/explain.ts';
import type { HostLink } from '../net/host-link.ts';
import { loadSessionChoice } from '../storage/choices.ts';
import type { OutboxAttachment, RelayDatabase } from '../storage/db.ts';
import { freshDb } from './test-records.ts';
import { loadOutbox } from '../storage/outbox.ts';
import { createConnectionStore } from './connection.ts';
import { createTasks } from './tasks.ts';
import { createWithDb } from './with-db.ts';

const CHOICE = { agent: 'plan', model: { providerId: 'fake', modelId: 'fake-smart' }, variant: 'high' };

function photo(): OutboxAttachment {
  const bytes = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
  return { id: 'att_photo', name: 'photo.png', mime: 'image/png', size: bytes.length, sha256: 'a'.repeat(64), blob: new Blob([bytes]) };
}

/** A computer that makes sessions, holds attached files and accepts tasks; offline until `online`. */
function fakeComputer() {
  const requests: RequestBody[] = [];
  const held = new Map<string, number>();
  const computer = {
    online: false,
    requests,
    request: (async (body: RequestBody) => {
      if (!computer.online) throw new NotConnected('Desk');
      requests.push(body);
      switch (body.t) {
        case 'session.create':
          return { sessionId: 'ses_new', directory: '/w', title: 'New session', createdAt: 1, updatedAt: 1 };
        case 'attachment.put': {
          const received = (held.get(body.attachmentId) ?? 0) + fromBase64url(body.data).length;
          held.set(body.attachmentId, received);
          return { received, complete: received === body.size };
        }
        case 'task.submit':
          return { taskId: body.taskId, sessionId: body.sessionId, messageId: 'msg_1', acceptedAt: 1 };
        case 'session.messages':
          return { sessionId: body.sessionId, state: { status: 'idle' }, messages: [], todos: [] };
        default:
          throw new Error(`unexpected ${body.t}`);
      }
    }) as HostLink['request'],
  };
  return computer;
}

/** The tasks of computer H1 on `db`, as the app wires them (relay.ts), with `computer` as the link. */
async function tasksOn(db: Promise<RelayDatabase>, computer: ReturnType<typeof fakeComputer>) {
  const tasks = createTasks({
    withDb: createWithDb(() => db),
    request: computer.request,
    connection: createConnectionStore(),
    ready: () => computer.online,
    createSession: async (key) => (await computer.request({ t: 'session.create', key })).sessionId,
    onAccepted: () => {},
    now: Date.now,
  });
  await tasks.outbox.use('H1');
  return tasks;
}

const settle = () => new Promise((r) => setTimeout(r, 20));

/** The app opens again later with the computer reachable, and its outbox has had its turns. */
async function reopenOnline(db: Promise<RelayDatabase>, computer: ReturnType<typeof fakeComputer>) {
  computer.online = true;
  const again = await tasksOn(db, computer);
  again.outbox.kick();
  await settle();
  again.outbox.kick();
  await settle();
  return again;
}
const submits = (c: ReturnType<typeof fakeComputer>) => c.requests.filter((r): r is Extract<RequestBody, { t: 'task.submit' }> => r.t === 'task.submit');

test('a new task goes with its agent, model, variant and photo, and its session remembers the choice before it opens', async (t) => {
  const db = freshDb(t);
  const computer = fakeComputer();
  computer.online = true;
  const tasks = await tasksOn(db, computer);

  const sessionId = await tasks.newTask('Look at this', CHOICE, [photo()]);
  assert.equal(sessionId, 'ses_new', 'went out at once: the session opens');
  // Read as the session's screen reads it when it opens (relay.ts `sessionChoice`).
  assert.deepEqual(await loadSessionChoice(await db, 'H1', 'ses_new'), CHOICE);
  await settle();
  assert.deepEqual(
    computer.requests.map((r) => r.t),
    ['session.create', 'attachment.put', 'attachment.put', 'task.submit'],
    'the file goes before the task that names it',
  );
  const [submit] = submits(computer);
  assert.deepEqual({ ...submit, taskId: undefined }, { t: 'task.submit', taskId: undefined, sessionId: 'ses_new', text: 'Look at this', ...CHOICE, attachments: ['att_photo'] });
  assert.deepEqual(tasks.outbox.items(), []);
  tasks.outbox.close();
});

test('offline, a new task with a photo waits on the phone, survives the app closing, and goes once online, exactly once', async (t) => {
  const db = freshDb(t);
  const computer = fakeComputer();
  const first = await tasksOn(db, computer);
  assert.equal(await first.newTask('Look at this', CHOICE, [photo()]), undefined, 'offline: it waits');
  const [stored] = await loadOutbox(await db, 'H1');
  assert.equal(stored?.newSession, true);
  assert.deepEqual(stored?.choice, CHOICE);
  assert.equal(stored?.attachments?.[0]?.blob.size, 7, 'the photo is kept on the phone');
  first.outbox.close();

  // The app opens again later, online.
  const again = await reopenOnline(db, computer);
  assert.equal(computer.requests.filter((r) => r.t === 'session.create').length, 1, 'one session');
  assert.equal(submits(computer).length, 1, 'sent once');
  assert.deepEqual(submits(computer)[0]!.attachments, ['att_photo']);
  assert.equal(submits(computer)[0]!.model?.modelId, 'fake-smart');
  assert.deepEqual(await loadOutbox(await db, 'H1'), []);
  assert.deepEqual(await loadSessionChoice(await db, 'H1', 'ses_new'), CHOICE, 'remembered for the session made meanwhile');
  again.outbox.close();
});

test('a command from the new-task composer, queued offline, makes its session and runs there once across a reload; the session keeps the choice, not the command', async (t) => {
  const db = freshDb(t);
  const computer = fakeComputer();
  const first = await tasksOn(db, computer);
  assert.equal(await first.newTask('src/app.ts', { ...CHOICE, command: 'review' }), undefined, 'offline: it waits');
  first.outbox.close();

  const again = await reopenOnline(db, computer);
  assert.deepEqual(
    computer.requests.map((r) => r.t),
    ['session.create', 'task.submit'],
    'the session first, then the command as its first turn, each once',
  );
  assert.deepEqual({ ...submits(computer)[0], taskId: undefined }, { t: 'task.submit', taskId: undefined, sessionId: 'ses_new', text: 'src/app.ts', ...CHOICE, command: 'review' });
  assert.deepEqual(await loadOutbox(await db, 'H1'), []);
  // The session's next turn runs with the same agent and model, but is no command unless chosen again.
  assert.deepEqual(await (await db).get('meta', 'choice:H1:ses_new'), CHOICE);
  again.outbox.close();
});
