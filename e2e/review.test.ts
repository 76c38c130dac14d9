/**
 * Reviewing and managing sessions through the relay against the REAL OpenCode runtime: a fake
 * model writes two files; the session's changes list both with their counts and diffs; revert
 * removes them from disk and unrevert brings them back; rename, fork, compact and delete act on
 * the runtime and a second device sees each; a read-only device can do none of them; a file is
 * read only inside the workspace; a running session refuses revert; search and paging find
 * sessions beyond the newest 100; the workspace's branch and changed files, and a session's token
 * use, context and cost, read by a read-only device; a task's sub-agent session listed under it and
 * streaming live; a picture sent with a task read back in chunks, the same bytes, and a file that
 * is not a picture refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { ATTACHMENT_CHUNK_BYTES } from '../shared/protocol/attachments.ts';
import type { RelayChannel } from '../shared/channel/client.ts';
import { RequestError } from '../shared/channel/errors.ts';
import { startHost } from '../host/app.ts';
import { parseConfig } from '../host/config.ts';
import { createRuntimeSandbox, testLogger } from './fixtures/runtime.ts';
import { fileCleanup } from './fixtures/cleanup.ts';
import { pairDevice } from './fixtures/paired-device.ts';
import { SECOND_CONTENT, SUBAGENT_PROMPT, WRITE_CONTENT, scriptedText } from './fixtures/fake-model.ts';

const REAL = { timeout: 300_000 };
const { cleanups, tempDir } = fileCleanup('relay-review-');

async function code(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
  return 'answered';
}

test('changes, file reading, revert and unrevert, rename, fork, compact, delete, search and paging, through the relay', REAL, async () => {
  const sb = await createRuntimeSandbox();
  cleanups.push(() => sb.dispose());
  // OpenCode keeps snapshots (what session diffs and reverts use) for git projects only.
  execFileSync('git', ['init', '-q', sb.workspace]);
  // The sandbox's own files committed on a named branch: the version-control status then lists what the agent changed.
  execFileSync('git', ['-C', sb.workspace, 'add', '-A']);
  execFileSync('git', ['-C', sb.workspace, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'root']);
  execFileSync('git', ['-C', sb.workspace, 'checkout', '-q', '-b', 'phone-review']);
  const dataDir = tempDir();
  // Writes go ahead without asking: the permission flow is not what is tested here.
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ permission: { edit: 'allow' } }));
  const parsed = parseConfig(['--port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--workspace', sb.workspace], {});
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const host = await startHost({ config: parsed.config, log: testLogger(), runtimeEnv: sb.env });
  cleanups.push(() => host.close());
  await host.runtime.ready;
  await host.runtime.bridge.subscribed();
  const url = `ws://127.0.0.1:${host.port}/relay`;
  const a = await pairDevice(host.relay, url, cleanups);
  const b = await pairDevice(host.relay, url, cleanups);
  const ro = await pairDevice(host.relay, url, cleanups, ['read']);

  // ---- the agent writes two files ----
  const one = join(sb.workspace, 'one.txt');
  const two = join(sb.workspace, 'two.txt');
  const sessionId = (await a.channel.request({ t: 'session.create', title: 'review me' })).sessionId;
  await a.channel.request({ t: 'task.submit', taskId: 'review-1', sessionId, text: `edit both [write2:${one},${two}]` });
  await a.waitFor('session.idle', (e) => e.sessionId === sessionId);
  assert.equal(readFileSync(one, 'utf8'), WRITE_CONTENT);
  assert.equal(readFileSync(two, 'utf8'), SECOND_CONTENT);

  // ---- what changed ----
  const changes = await ro.channel.request({ t: 'session.diff', sessionId });
  const byPath = new Map(changes.files.map((f) => [f.path, f]));
  assert.deepEqual([...byPath.keys()].sort(), ['one.txt', 'two.txt'], JSON.stringify(changes));
  assert.deepEqual([byPath.get('one.txt')!.additions, byPath.get('one.txt')!.deletions], [1, 0]);
  assert.deepEqual([byPath.get('two.txt')!.additions, byPath.get('two.txt')!.deletions], [3, 0]);
  assert.match(byPath.get('one.txt')!.patch ?? '', /^\+written by the fake model$/m);
  assert.match(byPath.get('two.txt')!.patch ?? '', /^\+second$/m);

  // ---- the workspace's version control, and the session's usage, for a read-only device too ----
  const vcs = await ro.channel.request({ t: 'workspace.vcs', sessionId });
  assert.equal(vcs.branch, 'phone-review');
  assert.deepEqual(
    vcs.files.map((f) => [f.path, f.status, f.additions]).sort(),
    [
      ['one.txt', 'added', 1],
      ['two.txt', 'added', 3],
    ],
    JSON.stringify(vcs),
  );
  assert.equal((await ro.channel.request({ t: 'workspace.vcs' })).directory, sb.workspace, "without a session: the device's first workspace");
  // Two model calls (the writes, then the reply after them), each 10 tokens in and 10 out.
  const usage = await ro.channel.request({ t: 'session.usage', sessionId });
  assert.deepEqual(usage.tokens, { input: 20, output: 20, reasoning: 0, cacheRead: 0, cacheWrite: 0 });
  assert.deepEqual(usage.context, { providerId: 'fake', modelId: 'fake-model', used: 20, limit: 100_000 });
  assert.ok(usage.cost !== undefined && Math.abs(usage.cost - (2 * (10 * 1 + 10 * 2)) / 1e6) < 1e-12, `priced as configured: ${usage.cost}`);

  // ---- reading a file: inside the workspace only ----
  assert.equal((await ro.channel.request({ t: 'file.read', path: 'two.txt' })).content, SECOND_CONTENT);
  symlinkSync(join(sb.root, 'home'), join(sb.workspace, 'out'));
  writeFileSync(join(sb.root, 'secret.txt'), 'secret');
  for (const path of ['../secret.txt', join(sb.root, 'secret.txt'), 'out/x', '/etc/passwd']) {
    assert.equal(await code(ro.channel.request({ t: 'file.read', path })), 'file.refused', path);
  }

  // ---- a picture sent with a task, read back in chunks, by a read-only device too ----
  const photo = noisePng(400, 500);
  assert.ok(photo.length > 2 * ATTACHMENT_CHUNK_BYTES, 'a picture of more than two chunks');
  await attach(a.channel, 'photo-1', 'photo.png', 'image/png', photo);
  await attach(a.channel, 'notes-1', 'notes.txt', 'text/plain', Buffer.from('not a picture'));
  const pictures = (await a.channel.request({ t: 'session.create', title: 'pictures' })).sessionId;
  const model = { providerId: 'fake', modelId: 'fake-smart' };
  await a.channel.request({ t: 'task.submit', taskId: 'photo-task', sessionId: pictures, text: 'look [text:2]', model, attachments: ['photo-1', 'notes-1'] });
  await a.waitFor('session.idle', (e) => e.sessionId === pictures);
  const prompt = (await ro.channel.request({ t: 'session.messages', sessionId: pictures })).messages.find((m) => m.role === 'user')!;
  const fileParts = new Map(prompt.parts.flatMap((p) => (p.kind === 'file' ? [[p.filename, p.partId] as const] : [])));
  const ref = { sessionId: pictures, messageId: prompt.messageId };
  const chunks: Buffer[] = [];
  let received = 0;
  do {
    const chunk = await ro.channel.request({ t: 'attachment.get', ...ref, partId: fileParts.get('photo.png')!, offset: received });
    assert.deepEqual([chunk.mime, chunk.size], ['image/png', photo.length]);
    chunks.push(Buffer.from(chunk.data, 'base64url'));
    received += chunks.at(-1)!.length;
  } while (received < photo.length);
  assert.equal(chunks.length, 3, 'in chunks of at most 256 KiB');
  assert.ok(Buffer.concat(chunks).equals(photo), 'the bytes the phone sent');
  const refusal = async (partId: string | undefined) => code(ro.channel.request({ t: 'attachment.get', ...ref, partId: partId ?? 'prt_none', offset: 0 }));
  assert.equal(await refusal(fileParts.get('notes.txt')), 'attachment.not-image');
  assert.equal(await refusal(prompt.parts.find((p) => p.kind === 'text')!.partId), 'attachment.not-image');
  assert.equal(await refusal(undefined), 'request.unknown');

  // ---- a read-only device changes nothing ----
  const userMessage = (await a.channel.request({ t: 'session.messages', sessionId })).messages.find((m) => m.role === 'user')!.messageId;
  for (const r of [
    { t: 'session.revert', sessionId, messageId: userMessage },
    { t: 'session.unrevert', sessionId },
    { t: 'session.rename', sessionId, title: 'x' },
    { t: 'session.delete', sessionId },
    { t: 'session.fork', sessionId },
    { t: 'session.compact', sessionId },
  ]) {
    assert.equal(await code(ro.channel.request(r as never)), 'scope.denied', r.t);
  }

  // ---- revert to before the task, then undo that ----
  const undone = await a.channel.request({ t: 'session.diff', sessionId, messageId: userMessage });
  assert.deepEqual(undone.files.map((f) => f.path).sort(), ['one.txt', 'two.txt'], 'what a revert to that message would change');
  const reverted = await a.channel.request({ t: 'session.revert', sessionId, messageId: userMessage });
  assert.equal(reverted.revertedTo, userMessage);
  assert.equal(existsSync(one), false, 'the first file is gone again');
  assert.equal(existsSync(two), false, 'the second file is gone again');
  await b.waitFor('session.updated', (e) => e.sessionId === sessionId && e.revertedTo === userMessage);
  const restored = await a.channel.request({ t: 'session.unrevert', sessionId });
  assert.equal(restored.revertedTo, undefined);
  assert.equal(readFileSync(one, 'utf8'), WRITE_CONTENT);
  assert.equal(readFileSync(two, 'utf8'), SECOND_CONTENT);

  // ---- rename, fork, compact ----
  await a.channel.request({ t: 'session.rename', sessionId, title: 'Reviewed work' });
  await b.waitFor('session.updated', (e) => e.sessionId === sessionId && e.title === 'Reviewed work');
  assert.equal((await host.runtime.bridge.getSession(sessionId)).title, 'Reviewed work');
  const fork = await a.channel.request({ t: 'session.fork', sessionId });
  assert.notEqual(fork.sessionId, sessionId);
  const forked = await b.channel.request({ t: 'session.messages', sessionId: fork.sessionId });
  assert.ok(forked.messages.length >= 2, 'the fork carries the transcript');
  assert.ok(
    (await b.channel.request({ t: 'sessions.list' })).sessions.some((s) => s.sessionId === fork.sessionId),
    'the other device lists the fork',
  );
  const before = (await a.channel.request({ t: 'session.messages', sessionId })).messages.length;
  assert.deepEqual(await a.channel.request({ t: 'session.compact', sessionId }), {});
  const after = (await b.channel.request({ t: 'session.messages', sessionId })).messages;
  assert.ok(after.length > before, `compacting added the summary (${before} → ${after.length} messages)`);

  // ---- delete: gone from the runtime and from the other device ----
  await a.channel.request({ t: 'session.delete', sessionId: fork.sessionId });
  await b.waitFor('session.deleted', (e) => e.sessionId === fork.sessionId);
  assert.equal(
    (await b.channel.request({ t: 'sessions.list' })).sessions.some((s) => s.sessionId === fork.sessionId),
    false,
  );

  // ---- a running session refuses revert ----
  const busy = (await a.channel.request({ t: 'session.create', title: 'busy' })).sessionId;
  await a.channel.request({ t: 'task.submit', taskId: 'busy-1', sessionId: busy, text: 'go [slow]' });
  await a.waitFor('session.status', (e) => e.sessionId === busy && e.status === 'busy');
  const running = await a.channel.request({ t: 'session.messages', sessionId: busy });
  await assert.rejects(
    a.channel.request({ t: 'session.revert', sessionId: busy, messageId: running.messages[0]!.messageId }),
    (err: unknown) => err instanceof RequestError && err.code === 'session.busy' && /running/.test(err.message),
  );
  await a.channel.request({ t: 'session.abort', sessionId: busy });

  // ---- a sub-agent: its own session under the task's, streaming live to another device ----
  const parent = (await a.channel.request({ t: 'session.create', title: 'delegating' })).sessionId;
  const childSeen = b.waitFor('session.updated', (e) => e.parentId === parent);
  await a.channel.request({ t: 'task.submit', taskId: 'task-1', sessionId: parent, text: 'delegate [task]' });
  const child = (await childSeen).sessionId;
  await b.waitFor('message.text.delta', (e) => e.sessionId === child);
  await a.waitFor('session.idle', (e) => e.sessionId === parent);
  const listed = (await b.channel.request({ t: 'sessions.list' })).sessions.find((s) => s.sessionId === child);
  assert.equal(listed?.parentId, parent, 'listed with its parent');
  const childTranscript = await ro.channel.request({ t: 'session.messages', sessionId: child });
  assert.ok(
    childTranscript.messages.some((m) => m.parts.some((p) => p.kind === 'text' && p.text.includes(SUBAGENT_PROMPT))),
    "the sub-agent's own transcript",
  );
  assert.ok(childTranscript.messages.some((m) => m.role === 'assistant' && m.parts.some((p) => p.kind === 'text' && p.text === scriptedText(3))));
  assert.equal((await ro.channel.request({ t: 'session.usage', sessionId: child })).tokens.output, 10, 'a sub-agent has its own usage');

  // ---- search and paging ----
  const found = await b.channel.request({ t: 'sessions.list', search: 'Reviewed' });
  assert.deepEqual(
    found.sessions.map((s) => s.sessionId),
    [sessionId],
  );
  for (let i = 1; i <= 150; i++) await host.runtime.bridge.createSession(`bulk ${i}`, sb.workspace);
  const seen = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await b.channel.request({ t: 'sessions.list', ...(cursor ? { cursor } : {}) });
    pages++;
    for (const s of page.sessions) seen.add(s.title);
    cursor = page.next;
  } while (cursor);
  assert.equal(pages, 2);
  for (const title of ['bulk 1', 'bulk 150', 'Reviewed work', 'busy', 'delegating']) assert.ok(seen.has(title), title);
});

/** Sends a file with `attachment.put`, chunk by chunk, as the app does. */
async function attach(channel: RelayChannel, attachmentId: string, name: string, mime: string, bytes: Buffer): Promise<void> {
  const whole = { attachmentId, name, mime, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  for (let offset = 0; offset < bytes.length; offset += ATTACHMENT_CHUNK_BYTES) {
    await channel.request({ t: 'attachment.put', ...whole, offset, data: bytes.subarray(offset, offset + ATTACHMENT_CHUNK_BYTES).toString('base64url') });
  }
}

/** A valid PNG of random pixels: it does not compress, so its size is about width × height × 3. */
function noisePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  // Each row: filter byte 0, then its pixels.
  const rows = Buffer.concat(Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), randomBytes(width * 3)])));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
