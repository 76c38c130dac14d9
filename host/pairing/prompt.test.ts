import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createLogger } from '../log.ts';
import { createApprovals } from './approvals.ts';
import { startApprovalPrompt, type KeyInput } from './prompt.ts';

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
    approvals, input, output: { write: (s: string) => written.push(s) }, log: createLogger({ write: () => {} }),
    newOffer: () => offers++, interrupt: () => interrupts++,
  });
  assert.equal(input.raw, true);
  const a = approvals.request(request('Pixel'));
  const b = approvals.request(request('iPad'));
  assert.match(written.join(''), /Pairing request from "Pixel" \(Android\) at 10\.0\.0\.9\n {2}Verification code: 123 456/);
  assert.doesNotMatch(written.join(''), /iPad/, 'one request at a time');
  input.type('x'); // ignored
  input.type('y');
  assert.deepEqual(await a.decision, { approved: true, scopes: ['read', 'run', 'approve'] });
  assert.match(written.join(''), /Approved\.\n\nPairing request from "iPad"/);
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
    approvals, input: new FakeTty(false), output: { write: () => {} }, log: createLogger({ write: (l) => lines.push(l) }), newOffer: () => {},
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
