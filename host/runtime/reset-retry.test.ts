import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { retryOnReset } from './reset-retry.ts';

/** A loopback server that resets the connection of the first `resets` requests, then echoes the body. */
async function resettingServer(resets: number) {
  const bodies: string[] = [];
  let left = resets;
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    bodies.push(body);
    if (left > 0) {
      left--;
      req.socket.resetAndDestroy();
      return;
    }
    res.end(`got ${body}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/session/x/prompt_async`;
  return { url, bodies, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const post = (url: string) => new Request(url, { method: 'POST', body: '{"parts":[1]}', headers: { 'content-type': 'application/json' } });

test('a request whose connection was reset is sent once more, body and all', async (t) => {
  const server = await resettingServer(1);
  t.after(server.close);
  // Without the retry the reset reaches the caller: the fault is real.
  await assert.rejects(fetch(post(server.url)), (err: Error) => (err.cause as { code?: string }).code === 'ECONNRESET');

  const again = await resettingServer(1);
  t.after(again.close);
  const res = await retryOnReset()(post(again.url));
  assert.equal(await res.text(), 'got {"parts":[1]}');
  assert.deepEqual(again.bodies, ['{"parts":[1]}', '{"parts":[1]}']);
});

test('only once: a second reset is reported, and other failures are not retried', async (t) => {
  const server = await resettingServer(2);
  t.after(server.close);
  await assert.rejects(retryOnReset()(post(server.url)), /fetch failed/);
  assert.equal(server.bodies.length, 2);

  let calls = 0;
  const refused = retryOnReset(async () => {
    calls++;
    throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
  });
  await assert.rejects(refused(post(server.url)), /fetch failed/);
  assert.equal(calls, 1, 'a runtime that is not listening is not asked twice');
});
