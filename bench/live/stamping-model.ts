/**
 * An OpenAI-compatible chat-completions server for the live-task measurements: asked with
 * `[stamp:N:GAP]` or `[stamp:N:GAP:TAG]` it streams N text deltas GAP ms apart, each carrying
 * its number and the time it was written (`<TAG><n>@<ms> `, this process's clock), so whoever
 * reads the runtime's events in this process can tell how long each delta took to reach it.
 * TAG (letters) tells one task's deltas from another's. Title requests (no tools) get a short
 * title. Listens on 127.0.0.1.
 * @module
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { now } from '../lib/clients.ts';
import { readJson } from '../../e2e/fixtures/fake-model.ts';

export interface StampingModel {
  /** `http://127.0.0.1:<port>/v1`, the provider's `baseURL`. */
  baseURL: string;
  /** Stamped deltas written so far, over all requests. */
  readonly written: number;
  close(): Promise<void>;
}

/** The directive for `count` deltas `gapMs` apart, marked with `tag` (letters) when given. */
export const stampDirective = (count: number, gapMs: number, tag = '') => `[stamp:${count}:${gapMs}${tag ? `:${tag}` : ''}]`;

/** Every `<n>@<ms>` stamp in a piece of delta text. */
export function readStamps(text: string): Array<{ n: number; at: number }> {
  return [...text.matchAll(/(\d+)@(\d+\.\d+)/g)].map((m) => ({ n: Number(m[1]), at: Number(m[2]) }));
}

export async function startStampingModel(): Promise<StampingModel> {
  let written = 0;
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return void res.writeHead(404).end();
    readJson(req).then(
      (body) => reply(res, body, () => written++),
      () => res.writeHead(400).end(),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    get written() {
      return written;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function reply(res: ServerResponse, body: Record<string, unknown>, onStamp: () => void): Promise<void> {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: unknown; content?: unknown }>) : [];
  const userText = JSON.stringify(messages.filter((m) => m.role === 'user').at(-1)?.content ?? '');
  const directive = /\[stamp:(\d+):(\d+(?:\.\d+)?)(?::([a-z]+))?\]/.exec(userText);
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  const base = { id: `chatcmpl-bench-${Date.now()}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: 'fake-model' };
  const usage = { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 };
  if (body.stream === false) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(
      JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Bench' }, finish_reason: 'stop' }], usage }),
    );
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let gone = false;
  res.on('close', () => (gone = true));
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }], ...(finish ? { usage } : {}) })}\n\n`);
  chunk({ role: 'assistant', content: '' });
  if (hasTools && directive) {
    const count = Number(directive[1]);
    const gapMs = Number(directive[2]);
    const tag = directive[3] ?? '';
    const start = performance.now();
    for (let n = 1; n <= count && !gone; n++) {
      // On a schedule, not a fixed sleep: a late timer does not slow the whole stream down.
      const wait = start + n * gapMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      chunk({ content: `${tag}${n}@${now().toFixed(3)} ` });
      onStamp();
    }
  } else {
    chunk({ content: hasTools ? 'ok' : 'Bench' });
  }
  if (gone) return;
  chunk({}, 'stop');
  res.end('data: [DONE]\n\n');
}
