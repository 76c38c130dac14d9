import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayClosedError, RequestError } from '../../shared/channel/client.ts';
import type { TaskAccepted } from '../../shared/protocol/messages.ts';
import { NotConnected, explainRequest } from '../net/explain.ts';
import type { OutboxRecord } from '../storage/db.ts';
import type { SessionState } from '../../shared/protocol/transcript.ts';
import { OUTBOX_ATTACHMENTS_LIMIT, changeable, createOutbox, type OutboxOptions, type OutboxTransport } from './outbox.ts';
import { ATTACHMENT_CHUNK_BYTES } from '../../shared/protocol/attachments.ts';
import { fromBase64url } from '../../shared/encoding.ts';

/** What the fake storage holds, copied on write like IndexedDB. */
function memoryStorage(initial: OutboxRecord[] = []) {
  const disk = new Map(initial.map((r) => [r.key, structuredClone(r)]));
  const writes: string[] = [];
  return {
    disk,
    writes,
    storage: {
      load: async (hostId: string) =>
        [...disk.values()]
          .filter((r) => r.hostId === hostId)
          .sort((a, b) => a.order - b.order)
          .map((r) => structuredClone(r)),
      put: async (r: OutboxRecord) => {
        writes.push(`put ${r.key}${r.sessionId ? ` ${r.sessionId}` : ''}${r.submitted ? ' submitted' : ''}`);
        disk.set(r.key, structuredClone(r));
      },
      remove: async (key: string) => {
        writes.push(`remove ${key}`);
        disk.delete(key);
      },
    },
  };
}

type Step = (body: { taskId?: string; sessionId?: string; text?: string }) => Promise<unknown>;

/** A scripted computer: answers each call with the next scripted reply, or accepts. */
function fakeTransport() {
  const calls: string[] = [];
  const script: Step[] = [];
  let sessions = 0;
  /** The host's answer for each session's state (idle when not set). */
  const states = new Map<string, SessionState>();
  /** The key of every session.create, in order. */
  const createKeys: string[] = [];
  const t: { connected: boolean; calls: string[]; createKeys: string[]; script: Step[]; states: Map<string, SessionState>; transport: OutboxTransport } = {
    connected: true,
    calls,
    createKeys,
    script,
    states,
    transport: {
      ready: () => t.connected,
      async createSession(key: string) {
        calls.push('create');
        createKeys.push(key);
        const next = script.shift();
        if (next) await next({});
        return `ses_new${++sessions}`;
      },
      async submit(task: { taskId: string; sessionId: string; text: string; command?: string; agent?: string }) {
        const how = [task.command && `/${task.command}`, task.agent && `as ${task.agent}`].filter(Boolean).join(' ');
        calls.push(`submit ${task.sessionId} ${task.text}${how ? ` (${how})` : ''}`);
        const next = script.shift();
        if (next) await next(task);
        return { taskId: task.taskId, sessionId: task.sessionId, messageId: `msg_${task.taskId}`, acceptedAt: 1 } satisfies TaskAccepted;
      },
      async state(sessionId: string) {
        calls.push(`state ${sessionId}`);
        return states.get(sessionId) ?? { status: 'idle' };
      },
    },
  };
  return t;
}

const settle = () => new Promise((r) => setTimeout(r, 5));
const fail =
  (err: Error): Step =>
  () =>
    Promise.reject(err);

function manualTimers() {
  const pending = new Set<{ run: () => void; ms: number }>();
  return {
    pending,
    timers: {
      set: (run: () => void, ms: number) => {
        const t = { run, ms };
        pending.add(t);
        return t;
      },
      clear: (t: unknown) => void pending.delete(t as { run: () => void; ms: number }),
    },
    /** Fires the timers of at most `ms` (not the request timeouts). */
    fire(ms: number) {
      for (const t of [...pending]) if (t.ms <= ms) pending.delete(t), t.run();
    },
  };
}

function harness(opts: Partial<OutboxOptions> & { records?: OutboxRecord[] } = {}) {
  const mem = memoryStorage(opts.records);
  const net = fakeTransport();
  const clock = manualTimers();
  let id = 0;
  let t = 1000;
  const accepted: string[] = [];
  const outbox = createOutbox({
    storage: mem.storage,
    transport: net.transport,
    explain: explainRequest,
    newTaskId: () => `tsk_${++id}`,
    now: () => t,
    timers: clock.timers,
    onAccepted: (item) => accepted.push(item.text),
    ...opts,
  });
  return { outbox, mem, net, clock, accepted, tick: (ms: number) => (t += ms) };
}

test('a task is stored before anything is sent, then sent, then leaves the outbox', async () => {
  const h = harness();
  await h.outbox.use('H1');
  const { record } = await h.outbox.add({ sessionId: 'ses_a', text: '  fix it ' });
  assert.equal(h.mem.writes[0], 'put tsk_1 ses_a', 'on disk before the first call');
  await settle();
  assert.deepEqual(h.net.calls, ['state ses_a', 'submit ses_a fix it']);
  assert.equal(record.text, 'fix it');
  assert.deepEqual(h.outbox.items(), []);
  assert.equal(h.mem.disk.size, 0);
  assert.deepEqual(h.accepted, ['fix it']);
});

test('a command queues offline like a task, kept with its choice on disk, and goes once with it, arguments or none', async () => {
  const h = harness();
  h.net.connected = false;
  await h.outbox.use('H1');
  await h.outbox.add({ sessionId: 'ses_a', text: '', choice: { command: 'init' } });
  await h.outbox.add({ sessionId: 'ses_a', text: 'Ada', choice: { command: 'greet', agent: 'plan' } });
  await assert.rejects(h.outbox.add({ sessionId: 'ses_a', text: ' ' }), /needs some text/, 'a prompt still needs words');
  assert.deepEqual(
    [...h.mem.disk.values()].map((r) => r.choice),
    [{ command: 'init' }, { command: 'greet', agent: 'plan' }],
  );
  h.net.connected = true;
  h.outbox.kick();
  await settle();
  assert.deepEqual(h.net.calls, ['state ses_a', 'submit ses_a  (/init)', 'state ses_a', 'submit ses_a Ada (/greet as plan)']);
  assert.equal(h.mem.disk.size, 0);
});

test('offline, tasks queue; once connected they go one at a time, in order, each with its own task id', async () => {
  const h = harness();
  h.net.connected = false;
  await h.outbox.use('H1');
  await h.outbox.add({ sessionId: 'ses_a', text: 'one' });
  await h.outbox.add({ text: 'two' });
  await h.outbox.add({ sessionId: 'ses_b', text: 'three' });
  await settle();
  assert.deepEqual(h.net.calls, []);
  assert.deepEqual(
    h.outbox.items().map((i) => [i.text, i.phase]),
    [
      ['one', 'queued'],
      ['two', 'queued'],
      ['three', 'queued'],
    ],
  );
  h.net.connected = true;
  h.outbox.kick();
  await settle();
  assert.deepEqual(h.net.calls, ['state ses_a', 'submit ses_a one', 'create', 'submit ses_new1 two', 'state ses_b', 'submit ses_b three']);
  assert.deepEqual(h.accepted, ['one', 'two', 'three']);
});

test('the queue survives a restart: a new outbox loads it in order and sends it', async () => {
  const first = harness();
  first.net.connected = false;
  await first.outbox.use('H1');
  await first.outbox.add({ sessionId: 'ses_a', text: 'one' });
  await first.outbox.add({ sessionId: 'ses_a', text: 'two' });
  first.outbox.close();
  const again = harness({ records: [...first.mem.disk.values()] });
  await again.outbox.use('H2');
  assert.deepEqual(again.outbox.items(), [], 'another computer’s items are not shown');
  await again.outbox.use('H1');
  await settle();
  assert.deepEqual(again.accepted, ['one', 'two']);
});

test('a new task’s session id is stored before the task is submitted; a resend after a crash reuses it', async () => {
  const h = harness();
  await h.outbox.use('H1');
  h.net.script.push(async () => {}, fail(new RelayClosedError(undefined, 1006, 'gone')));
  await h.outbox.add({ text: 'new work' });
  await settle();
  assert.deepEqual(h.mem.writes.slice(0, 3), ['put tsk_1', 'put tsk_1 ses_new1', 'put tsk_1 ses_new1 submitted']);
  const item = h.outbox.items()[0]!;
  assert.equal(item.phase, 'queued', 'a dropped connection keeps it queued');
  assert.equal(item.sessionId, 'ses_new1');
  assert.equal(item.submitted, true, 'it may have reached the host');
  assert.equal(changeable(item), false);
  await assert.rejects(h.outbox.edit(item.key, 'other'), /may already have reached/);
  await assert.rejects(h.outbox.remove(item.key), /may already have reached/);

  // The app closes; the next one sends the same task id to the same session, and makes no session.
  h.outbox.close();
  const next = harness({ records: [...h.mem.disk.values()] });
  await next.outbox.use('H1');
  await settle();
  assert.deepEqual(next.net.calls, ['submit ses_new1 new work']);
  assert.deepEqual(next.accepted, ['new work']);
});

test('a new task’s session is asked for with the task’s own id as key, the same on every retry and after the app restarts', async () => {
  const h = harness();
  await h.outbox.use('H1');
  // The host made the session, but the answer was lost twice: once to a drop, once to silence.
  h.net.script.push(fail(new RelayClosedError(undefined, 1006, 'gone')), () => new Promise(() => {}));
  const { record } = await h.outbox.add({ text: 'new work' });
  await settle();
  h.clock.fire(2000);
  await settle();
  h.clock.fire(45_000); // the unanswered request times out
  await settle();
  assert.deepEqual(h.net.createKeys, [record.key, record.key]);
  assert.equal(h.mem.disk.get(record.key)!.sessionId, undefined, 'no session was stored: none was answered');

  // The app closes before any answer; the next run asks with the stored task's key again.
  h.outbox.close();
  const next = harness({ records: [...h.mem.disk.values()] });
  await next.outbox.use('H1');
  await settle();
  assert.deepEqual(next.net.createKeys, [record.key]);
  assert.deepEqual(next.net.calls, ['create', 'submit ses_new1 new work']);
  assert.deepEqual(next.accepted, ['new work']);
});

test('passing failures keep the item queued and retry it; refusals mark it failed with the explanation', async () => {
  const h = harness();
  await h.outbox.use('H1');
  h.net.script.push(fail(new RequestError('runtime.not-ready', 'starting')));
  await h.outbox.add({ sessionId: 'ses_a', text: 'one' });
  await settle();
  assert.equal(h.outbox.items()[0]!.phase, 'queued');
  assert.match(h.outbox.items()[0]!.note!, /not ready/);
  assert.equal(h.outbox.items()[0]!.submitted, false, 'refused before it was recorded');
  h.net.script.push(fail(new NotConnected('Desk')));
  h.clock.fire(2000);
  await settle();
  assert.equal(h.outbox.items()[0]!.phase, 'queued');
  assert.equal(changeable(h.outbox.items()[0]!), true, 'never left the phone: still editable');
  h.net.script.push(fail(new RequestError('scope.denied', 'no run scope')));
  h.clock.fire(4000);
  await settle();
  const failed = h.outbox.items()[0]!;
  assert.equal(failed.phase, 'failed');
  assert.match(failed.failed!.message, /not allowed to do that/);
  assert.equal(failed.failed!.code, 'scope.denied');
  assert.equal(h.mem.disk.get(failed.key)!.failed!.code, 'scope.denied', 'stored as failed');
  h.clock.fire(60_000);
  await settle();
  assert.equal(h.net.calls.filter((c) => c.startsWith('submit')).length, 3, 'a failed item is not resent on its own');
  await h.outbox.retry(failed.key);
  await settle();
  assert.deepEqual(h.accepted, ['one']);
});

test('a runtime error is tried again a few times, then the item is marked failed', async () => {
  const h = harness({ runtimeErrorLimit: 2 });
  await h.outbox.use('H1');
  const broken = () => fail(new RequestError('runtime.error', 'create session failed: fetch failed'));
  h.net.script.push(broken(), broken());
  await h.outbox.add({ text: 'new' });
  await settle();
  assert.equal(h.outbox.items()[0]!.phase, 'queued', 'the first runtime error may pass');
  assert.match(h.outbox.items()[0]!.note!, /fetch failed/);
  h.clock.fire(2000);
  await settle();
  assert.equal(h.outbox.items()[0]!.phase, 'failed');
  await h.outbox.retry(h.outbox.items()[0]!.key);
  await settle();
  assert.deepEqual(h.accepted, ['new']);
});

test('a failed item holds back later items of its session, not those of others; deleting it lets them go', async () => {
  const h = harness();
  h.net.connected = false;
  await h.outbox.use('H1');
  const { record: bad } = await h.outbox.add({ sessionId: 'ses_a', text: 'bad' });
  await h.outbox.add({ sessionId: 'ses_a', text: 'after bad' });
  await h.outbox.add({ sessionId: 'ses_b', text: 'elsewhere' });
  h.net.script.push(fail(new RequestError('request.unknown', 'no such session')));
  h.net.connected = true;
  h.outbox.kick();
  await settle();
  assert.deepEqual(h.accepted, ['elsewhere']);
  assert.deepEqual(
    h.outbox.items().map((i) => [i.text, i.phase]),
    [
      ['bad', 'failed'],
      ['after bad', 'queued'],
    ],
  );
  await h.outbox.remove(bad.key);
  await settle();
  assert.deepEqual(h.accepted, ['elsewhere', 'after bad']);
});

test('a queued item can be edited and cancelled; not while it is being sent', async () => {
  const h = harness();
  h.net.connected = false;
  await h.outbox.use('H1');
  const { record: a } = await h.outbox.add({ sessionId: 'ses_a', text: 'draft' });
  const { record: b } = await h.outbox.add({ sessionId: 'ses_a', text: 'never mind' });
  await h.outbox.edit(a.key, 'final');
  assert.equal(h.mem.disk.get(a.key)!.text, 'final');
  await h.outbox.remove(b.key);
  assert.equal(h.mem.disk.has(b.key), false);
  let release!: () => void;
  h.net.script.push(() => new Promise<void>((r) => (release = r)));
  h.net.connected = true;
  h.outbox.kick();
  await settle();
  assert.equal(h.outbox.items()[0]!.phase, 'sending');
  await assert.rejects(h.outbox.edit(a.key, 'too late'), /being sent/);
  await assert.rejects(h.outbox.remove(a.key), /being sent/);
  release();
  await settle();
  assert.deepEqual(
    h.net.calls.filter((c) => c.startsWith('submit')),
    ['submit ses_a final'],
  );
});

test('an item for a busy session waits until the host says its turn is over', async () => {
  const h = harness();
  await h.outbox.use('H1');
  h.net.states.set('ses_a', { status: 'busy' });
  await h.outbox.add({ sessionId: 'ses_a', text: 'next' });
  await settle();
  assert.equal(h.outbox.items()[0]!.phase, 'waiting');
  assert.equal(changeable(h.outbox.items()[0]!), true, 'still editable while it waits');
  h.net.states.set('ses_a', { status: 'retry', attempt: 1, message: 'overloaded', next: 5 });
  h.outbox.kick();
  await settle();
  assert.equal(h.outbox.items()[0]!.phase, 'waiting', 'a retrying turn is still running');
  h.clock.fire(10_000);
  await settle();
  assert.deepEqual(h.accepted, [], 'looked again, still running');
  h.net.states.set('ses_a', { status: 'idle' });
  h.clock.fire(10_000);
  await settle();
  assert.deepEqual(h.accepted, ['next'], 'sent once the host says idle (also after a restart left a prompt unanswered)');
});

test('an item waiting for its busy session holds back only that session: other sessions, and new ones, go meanwhile', async () => {
  const h = harness();
  h.net.connected = false;
  await h.outbox.use('H1');
  await h.outbox.add({ sessionId: 'ses_a', text: 'a-1' });
  await h.outbox.add({ sessionId: 'ses_a', text: 'a-2' });
  await h.outbox.add({ sessionId: 'ses_b', text: 'b-1' });
  await h.outbox.add({ text: 'new' });
  h.net.states.set('ses_a', { status: 'busy' });
  h.net.connected = true;
  h.outbox.kick();
  await settle();
  assert.deepEqual(h.accepted, ['b-1', 'new'], 'not held behind ses_a');
  assert.deepEqual(
    h.outbox.items().map((i) => [i.text, i.phase]),
    [
      ['a-1', 'waiting'],
      ['a-2', 'queued'],
    ],
    'the busy session keeps its order',
  );
  h.net.states.set('ses_a', { status: 'idle' });
  h.clock.fire(10_000);
  await settle();
  assert.deepEqual(h.accepted, ['b-1', 'new', 'a-1', 'a-2']);
});

test('progress tells a new task’s session, and what became of the item', async () => {
  const h = harness();
  await h.outbox.use('H1');
  const item = await h.outbox.add({ text: 'go' });
  assert.deepEqual(await item.next, { kind: 'session', sessionId: 'ses_new1' }, 'connected: sent at once');
  await settle();
  h.net.connected = false;
  const other = await h.outbox.add({ text: 'later' });
  await h.outbox.remove(other.record.key);
  assert.deepEqual(await other.next, { kind: 'removed' });
  h.net.connected = true;
  h.net.script.push(fail(new RelayClosedError(undefined, 1006, 'gone')));
  const held = await h.outbox.add({ sessionId: 'ses_a', text: 'held' });
  assert.equal((await held.next).kind, 'held');
});

/** A file as the composer prepares it (client/attachments/prepare.ts). */
function attachment(id: string, bytes: Uint8Array<ArrayBuffer>) {
  return { id, name: `${id}.bin`, mime: 'application/octet-stream', size: bytes.length, sha256: 'a'.repeat(64), blob: new Blob([bytes]) };
}

/** The host's side of `attachment.put`: what it holds of each file; `failAfter` drops the connection after that many chunks. */
function fakeAttachmentHost(net: ReturnType<typeof fakeTransport>) {
  const held = new Map<string, Uint8Array[]>();
  const host = { held, chunks: 0, failAfter: Infinity };
  net.transport.putAttachment = async (chunk) => {
    const parts = held.get(chunk.attachmentId) ?? [];
    held.set(chunk.attachmentId, parts);
    const received = () => parts.reduce((n, p) => n + p.length, 0);
    if (chunk.data !== '' && chunk.offset === received()) {
      if (host.chunks++ >= host.failAfter) throw new NotConnected('the computer');
      parts.push(fromBase64url(chunk.data));
    }
    net.calls.push(`put ${chunk.attachmentId} ${chunk.offset} ${chunk.data.length ? 'data' : 'ask'}`);
    return { received: received(), complete: received() === chunk.size };
  };
  return host;
}

test('attached files wait offline with their task, on disk, then go in chunks with progress before the task names them, once', async () => {
  /** Each upload progress the outbox showed. */
  const seen: number[] = [];
  const h = harness({ onChange: (items) => items[0]?.upload && seen.push(items[0].upload.sent) });
  const host = fakeAttachmentHost(h.net);
  h.net.connected = false;
  await h.outbox.use('H1');
  const big = new Uint8Array(ATTACHMENT_CHUNK_BYTES + 10).fill(7);
  await h.outbox.add({ sessionId: 'ses_a', text: 'look', attachments: [attachment('att_1', big), attachment('att_2', new Uint8Array([1, 2, 3]))] });
  assert.equal(h.mem.disk.get('tsk_1')?.attachments?.[0]?.blob.size, big.length, 'the bytes are kept on the phone');

  // The connection drops in the middle of the first file: the rest goes later, from where the host is.
  host.failAfter = 1;
  h.net.connected = true;
  h.outbox.kick();
  await settle();
  assert.equal(h.outbox.items()[0]?.phase, 'queued', 'held, not failed');
  assert.ok(!h.outbox.items()[0]?.submitted, 'the task itself was not sent');
  host.failAfter = Infinity;
  h.clock.fire(60_000);
  await settle();
  assert.deepEqual(
    h.net.calls.filter((c) => !c.startsWith('state')),
    ['put att_1 0 ask', 'put att_1 0 data', 'put att_1 0 ask', `put att_1 ${ATTACHMENT_CHUNK_BYTES} data`, 'put att_2 0 ask', 'put att_2 0 data', 'submit ses_a look'],
  );
  assert.deepEqual(
    host.held.get('att_1')!.reduce((n, p) => n + p.length, 0),
    big.length,
  );
  assert.ok(seen.includes(ATTACHMENT_CHUNK_BYTES) && seen.includes(big.length + 3), `progress shown: ${seen.join(', ')}`);
  assert.deepEqual(h.outbox.items(), []);
});

test('the task names its files by id; more attached files than the outbox keeps are refused, saying its limit', async () => {
  const h = harness();
  fakeAttachmentHost(h.net);
  const submitted: unknown[] = [];
  const submit = h.net.transport.submit;
  h.net.transport.submit = (task) => (submitted.push(task.attachments), submit(task));
  await h.outbox.use('H1');
  await h.outbox.add({ sessionId: 'ses_a', text: 'look', attachments: [attachment('att_1', new Uint8Array([1]))] });
  await settle();
  assert.deepEqual(submitted, [['att_1']]);

  h.net.connected = false;
  const huge = { ...attachment('att_big', new Uint8Array(1)), size: OUTBOX_ATTACHMENTS_LIMIT };
  await h.outbox.add({ sessionId: 'ses_a', text: 'one', attachments: [huge] });
  await assert.rejects(
    h.outbox.add({ sessionId: 'ses_a', text: 'two', attachments: [attachment('att_2', new Uint8Array([1]))] }),
    /up to 50\.0 MB on this phone; 50\.0 MB already wait/,
  );
});
