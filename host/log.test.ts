import { test } from 'node:test';
import assert from 'node:assert/strict';
import xterm from '@xterm/headless';
import { createLogGate, createLogger } from './log.ts';

const ATTACK = 'Pixel\r\x1b[2K\x1b[1A\x1b[8mVerification code: 123 456\n\u202eevil\u200b\x9b2J';

test('text and JSON lines show device-supplied text escaped: no control, bidi or zero-width character reaches the log', () => {
  for (const format of ['text', 'json'] as const) {
    const lines: string[] = [];
    const log = createLogger({ format, write: (l) => lines.push(l) });
    log.info(`pairing from ${ATTACK}`, { name: ATTACK, nested: { list: [ATTACK] }, err: new Error(ATTACK) });
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    // The JSON form is parsed back: its strings, as a reader sees them, must be clean too.
    const texts = format === 'json' ? [JSON.stringify(JSON.parse(line)), ...collect(JSON.parse(line))] : [line];
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for exactly these characters.
    for (const t of texts) assert.doesNotMatch(t, /[\x00-\x1f\x7f-\x9f\u200b\u202e\u2028]/u, `${format}: ${JSON.stringify(t)}`);
    assert.match(line, /\\\\?x1b\[2K/);
    assert.match(line, /\\\\?u202eevil/);
  }
});

test('a very long field is cut', () => {
  const lines: string[] = [];
  createLogger({ write: (l) => lines.push(l) }).warn('long', { text: 'x'.repeat(100_000) });
  assert.ok(lines[0]!.length < 3000);
});

function collect(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...collect(x)]);
  return [];
}

test('a log gate holds lines while closed and writes them in order on release; a flood keeps the newest', () => {
  const out: string[] = [];
  const gate = createLogGate((l) => out.push(l));
  gate.write('a');
  gate.hold();
  gate.write('b');
  gate.write('c');
  assert.deepEqual(out, ['a']);
  gate.release();
  assert.deepEqual(out, ['a', 'b', 'c']);
  gate.write('d');
  assert.deepEqual(out, ['a', 'b', 'c', 'd']);
  out.length = 0;
  gate.hold();
  for (let i = 0; i < 600; i++) gate.write(String(i));
  gate.release();
  assert.equal(out[0], '(100 earlier log lines were left out while the prompt waited)');
  assert.deepEqual([out[1], out.at(-1), out.length], ['100', '599', 501]);
});

test('in a terminal emulator a log line carrying a forged code line stays one visible line, nothing concealed', async () => {
  for (const format of ['text', 'json'] as const) {
    const lines: string[] = [];
    createLogger({ format, write: (l) => lines.push(l) }).info('pairing waits for approval', { name: ATTACK, platform: ATTACK });
    const term = new xterm.Terminal({ cols: 400, rows: 10, allowProposedApi: true });
    await new Promise<void>((resolve) => term.write(`${lines[0]!}\r\n`, resolve));
    const buf = term.buffer.active;
    const shown: string[] = [];
    let invisible = 0;
    for (let y = 0; y < buf.length; y++) {
      const line = buf.getLine(y)!;
      if (line.translateToString(true).trim()) shown.push(line.translateToString(true));
      for (let x = 0; x < line.length; x++) if (line.getCell(x)?.isInvisible()) invisible++;
    }
    term.dispose();
    assert.equal(shown.length, 1, `${format}: ${shown.join('\n')}`);
    assert.equal(invisible, 0, format);
    assert.match(shown[0]!, /Pixel\\{1,2}r\\{1,2}x1b\[2K/, format);
  }
});
