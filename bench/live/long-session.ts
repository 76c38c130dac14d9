/**
 * A long session for the phone measurements (issue 18, item 2), written into a real OpenCode
 * runtime's storage with the runtime's own `opencode import`: creating 2,000 messages through
 * prompts would take minutes, the import takes seconds and leaves a session the runtime serves
 * like any other (its messages, parts and tool outputs in its own database).
 * The shape is what `opencode export` gives for a turn that ran a command: a user message, then
 * an assistant message with a step, a completed bash call and a short text.
 * @module
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { RuntimeSandbox } from '../../e2e/fixtures/runtime.ts';

const OPENCODE = fileURLToPath(new URL('../../node_modules/.bin/opencode', import.meta.url));

export interface LongSession {
  sessionId: string;
  title: string;
  messages: number;
  /** Bytes of tool output, all calls together. */
  toolOutputBytes: number;
  /** The text of the last message, to know when it is on screen. */
  lastText: string;
  /** The text of the first message. */
  firstText: string;
}

/** OpenCode's id shape (prefix, 12 hex digits that sort by creation, 14 more characters). */
const id = (prefix: string, n: number) => `${prefix}_${n.toString(16).padStart(12, '0')}Benchbenchbenc`;

/** `lines` lines of command output, about 80 bytes each, numbered so no two outputs are alike. */
function output(turn: number, lines: number): string {
  let out = '';
  for (let l = 0; l < lines; l++) out += `turn ${turn} line ${l}: ${'lorem ipsum dolor sit amet consectetur '.repeat(2).slice(0, 60)}\n`;
  return out;
}

export async function seedLongSession(sandbox: RuntimeSandbox, opts: { messages: number; toolOutputBytes: number }): Promise<LongSession> {
  const turns = Math.floor(opts.messages / 2);
  const linesPerCall = Math.max(1, Math.round(opts.toolOutputBytes / turns / 80));
  const sessionId = id('ses', 0x7000000);
  const title = 'A long session';
  const created = Date.now() - turns * 60_000;
  let n = 0x1000;
  let toolOutputBytes = 0;
  const messages = [];
  const firstText = 'Turn 0: run the checks';
  let lastText = '';
  for (let t = 0; t < turns; t++) {
    const at = created + t * 60_000;
    const userId = id('msg', n++);
    const text = t === 0 ? firstText : `Turn ${t}: run the checks`;
    messages.push({
      info: { id: userId, sessionID: sessionId, role: 'user', time: { created: at }, agent: 'build', model: { providerID: 'fake', modelID: 'fake-model' } },
      parts: [{ id: id('prt', n++), sessionID: sessionId, messageID: userId, type: 'text', text }],
    });
    const replyId = id('msg', n++);
    const out = output(t, linesPerCall);
    toolOutputBytes += Buffer.byteLength(out);
    lastText = `Answer ${t}: the checks passed, with **${linesPerCall} lines** of output.`;
    const tokens = { total: 20, input: 10, output: 10, reasoning: 0, cache: { write: 0, read: 0 } };
    messages.push({
      info: {
        id: replyId,
        sessionID: sessionId,
        parentID: userId,
        role: 'assistant',
        mode: 'build',
        agent: 'build',
        path: { cwd: sandbox.workspace, root: '/' },
        cost: 0,
        tokens,
        modelID: 'fake-model',
        providerID: 'fake',
        time: { created: at + 1000, completed: at + 5000 },
        finish: 'stop',
      },
      parts: [
        { id: id('prt', n++), sessionID: sessionId, messageID: replyId, type: 'step-start' },
        {
          id: id('prt', n++),
          sessionID: sessionId,
          messageID: replyId,
          type: 'tool',
          tool: 'bash',
          callID: `call_bench_${t}`,
          state: {
            status: 'completed',
            input: { command: `npm test -- --shard ${t}`, description: 'Run the checks' },
            output: out,
            metadata: { output: out, exit: 0, truncated: false },
            title: `npm test -- --shard ${t}`,
            time: { start: at + 2000, end: at + 4000 },
          },
        },
        { id: id('prt', n++), sessionID: sessionId, messageID: replyId, type: 'text', text: lastText, time: { start: at + 4500, end: at + 4900 } },
        { id: id('prt', n++), sessionID: sessionId, messageID: replyId, type: 'step-finish', reason: 'stop', tokens, cost: 0 },
      ],
    });
  }
  const info = {
    id: sessionId,
    slug: 'long-session',
    projectID: 'global',
    directory: sandbox.workspace,
    title,
    version: '1.18.33',
    time: { created, updated: created + turns * 60_000 },
  };
  const file = join(sandbox.root, 'long-session.json');
  await writeFile(file, JSON.stringify({ info, messages }));
  await promisify(execFile)(OPENCODE, ['import', file], { cwd: sandbox.workspace, env: { ...process.env, ...sandbox.env }, maxBuffer: 1 << 24 });
  return { sessionId, title, messages: messages.length, toolOutputBytes, lastText, firstText };
}
