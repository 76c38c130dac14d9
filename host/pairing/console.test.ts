import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { silentLogger } from '../log.ts';
import { createApprovals } from './approvals.ts';
import { startPairingConsole } from './console.ts';

test('shows an offer on start and a fresh one on p', async () => {
  const input = Object.assign(new EventEmitter(), { isTTY: true, setRawMode() {}, setEncoding() {}, resume() {}, pause() {} });
  const out: string[] = [];
  let n = 0;
  const console = startPairingConsole({
    newOffer: () => ({ id: `o${n}`, expiresAt: Date.now() + 60_000, link: `http://h/#pair=${++n}`, code: 'AAAA-BBBB-CCCC-DDDD-EEEE', origin: 'http://h' }),
    approvals: createApprovals(),
    input,
    output: { write: (s: string) => out.push(s) },
    log: silentLogger,
  });
  await console.showOffer();
  assert.match(out.join(''), /#pair=1\n/);
  assert.match(out.join(''), /AAAA-BBBB-CCCC-DDDD-EEEE/);
  input.emit('data', 'p');
  await new Promise((r) => setTimeout(r, 50));
  assert.match(out.join(''), /#pair=2\n/);
  console.close();
});
