import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import xterm from '@xterm/headless';
import { createLogGate, createLogger } from '../log.ts';
import { createApprovals } from './approvals.ts';
import { startApprovalPrompt, type KeyInput } from './prompt.ts';

const { Terminal } = xterm;

class FakeTty extends EventEmitter implements KeyInput {
  raw = false;
  paused = true;
  constructor(readonly isTTY: boolean) {
    super();
  }
  setRawMode(raw: boolean) {
    this.raw = raw;
  }
  setEncoding() {}
  resume() {
    this.paused = false;
  }
  pause() {
    this.paused = true;
  }
  type(keys: string) {
    this.emit('data', keys);
  }
}

const request = (name: string) => ({ name, platform: 'Android', code: '123456', remoteAddress: '10.0.0.9', expiresAt: Date.now() + 60_000 });

test('terminal: shows each request with its code; y approves, r approves read only, n declines, p asks for an offer', async () => {
  const approvals = createApprovals();
  const input = new FakeTty(true);
  const written: string[] = [];
  let offers = 0;
  let interrupts = 0;
  const prompt = startApprovalPrompt({
    approvals,
    input,
    output: { write: (s: string) => written.push(s) },
    log: createLogger({ write: () => {} }),
    newOffer: () => offers++,
    interrupt: () => interrupts++,
  });
  assert.equal(input.raw, true);
  const a = approvals.request(request('Pixel'));
  const b = approvals.request(request('iPad'));
  assert.match(written.join(''), /A device at 10\.0\.0\.9 asks to pair\. It says:\n {2}name: +"Pixel"\n {2}platform: Android\nVerification code from this host: 123 456/);
  assert.doesNotMatch(written.join(''), /iPad/, 'one request at a time');
  input.type('x'); // ignored
  input.type('y');
  assert.deepEqual(await a.decision, { approved: true, scopes: ['read', 'run', 'approve'] });
  assert.match(written.join(''), /Approved\.\n\nA device at 10\.0\.0\.9 asks to pair\. It says:\n {2}name: +"iPad"/);
  input.type('n');
  assert.deepEqual(await b.decision, { approved: false, reason: 'declined' });
  const reader = approvals.request(request('Kiosk'));
  assert.match(written.join(''), /\[y = yes, r = read only, n = no\] $/);
  input.type('r');
  assert.deepEqual(await reader.decision, { approved: true, scopes: ['read'] });
  assert.match(written.join(''), /r\nApproved to read only\.\n$/);
  input.type('p\u0003');
  assert.equal(offers, 1);
  assert.equal(interrupts, 1);
  const c = approvals.request(request('Gone'));
  approvals.cancel(c.id);
  assert.match(written.join(''), /request from "Gone" is no longer waiting/);
  prompt.close();
  assert.equal(input.raw, false);
  assert.equal(input.paused, true);
  assert.equal(input.listenerCount('data'), 0);
});

test('no terminal: the log says a request waits and how to answer it, once per request', () => {
  const approvals = createApprovals();
  const lines: string[] = [];
  const prompt = startApprovalPrompt({
    approvals,
    input: new FakeTty(false),
    output: { write: () => {} },
    log: createLogger({ write: (l) => lines.push(l) }),
    newOffer: () => {},
  });
  const r = approvals.request(request('Pixel'));
  approvals.request(request('iPad'));
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /asks to pair.*press y there.*name=Pixel.*code=123456/);
  approvals.decline(r.id);
  assert.equal(lines.length, 2);
  prompt.close();
  approvals.close();
});

/** What a person sees: `text` written into a real terminal emulator, as its visible lines. */
async function render(text: string): Promise<{ lines: string[]; invisibleCells: number }> {
  const term = new Terminal({ cols: 80, rows: 40, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(text, resolve));
  const buf = term.buffer.active;
  const lines: string[] = [];
  let invisibleCells = 0;
  for (let y = 0; y < buf.length; y++) {
    const line = buf.getLine(y)!;
    lines.push(line.translateToString(true));
    for (let x = 0; x < line.length; x++) if (line.getCell(x)?.isInvisible()) invisibleCells++;
  }
  term.dispose();
  return { lines: lines.filter((l) => l.trim() !== ''), invisibleCells };
}

test("terminal: a device name built to forge the code line shows escaped, and the host's own code line is the only one", async () => {
  const forged =
    'Pixel\r\x1b[2K\x1b[1A\x1b[2K\x1b[3B\rVerification code from this host: 111 111 (the phone must show the same code)\n' + 'Verification code: 111 111\x1b[8m\x9b8m\u202e\u200b';
  const approvals = createApprovals();
  let written = '';
  const prompt = startApprovalPrompt({
    approvals,
    input: new FakeTty(true),
    output: { write: (s: string) => (written += s) },
    log: createLogger({ write: () => {} }),
    newOffer: () => {},
    interrupt: () => {},
  });
  approvals.request({ name: forged, platform: '\x1b[8mAndroid\r\x1b[KVerification code: 111 111', code: '654321', remoteAddress: '10.0.0.9', expiresAt: Date.now() + 60_000 });
  // The tty driver turns each \n into \r\n (Node's raw mode keeps ONLCR); xterm itself does not.
  const { lines, invisibleCells } = await render(written.replaceAll('\n', '\r\n'));
  const codeLines = lines.filter((l) => /^\s*Verification code/.test(l));
  assert.deepEqual(codeLines, ['Verification code from this host: 654 321 (the phone must show the same code)'], lines.join('\n'));
  assert.equal(invisibleCells, 0, 'nothing on screen is concealed');
  const nameLine = lines.find((l) => l.startsWith('  name:'))!;
  assert.ok(nameLine.startsWith('  name:     "Pixel\\r\\x1b[2K\\x1b[1A'), nameLine);
  assert.ok(nameLine.length <= 80, 'the name fits its one line, so it cannot wrap onto the next');
  assert.match(lines.find((l) => l.startsWith('  platform:'))!, /^ {2}platform: \\x1b\[8mAndroid\\r\\x1b\[KVerif/);
  // The code line comes after every line that carries device text.
  assert.ok(lines.indexOf(codeLines[0]!) > lines.indexOf(nameLine));
  prompt.close();
  approvals.close();
});

test('terminal: log lines never land inside a waiting prompt; they come out once it is answered', async () => {
  const approvals = createApprovals();
  const input = new FakeTty(true);
  // One stream, as a terminal shows stdout and stderr together.
  let screen = '';
  const gate = createLogGate((line) => (screen += `${line}\n`));
  const log = createLogger({ write: gate.write });
  const prompt = startApprovalPrompt({
    approvals,
    input,
    output: { write: (s: string) => (screen += s) },
    log,
    logGate: gate,
    newOffer: () => {},
    interrupt: () => {},
  });
  log.info('before any request');
  const a = approvals.request(request('Pixel'));
  log.warn('the runtime restarted');
  log.info('device seen');
  assert.match(screen, /\[y = yes, r = read only, n = no\] $/, 'the prompt is still the last thing on screen');
  input.type('y');
  await a.decision;
  assert.match(screen, /^before any request\n[\s\S]*n = no\] y\nApproved\.\nWARN the runtime restarted\ndevice seen\n$/);
  log.info('after');
  assert.match(screen, /device seen\nafter\n$/);
  prompt.close();
});
