import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PairingTarget } from '../../net/pairing.ts';
import type { HostRecord } from '../../storage/db.ts';
import { createPairFlow, type PairPhase } from './flow.ts';

const STABLE = 'https://desk.local:8787';
const target: PairingTarget = { offer: {} as PairingTarget['offer'], addresses: [STABLE, 'https://192.168.1.20:8787'], hostName: 'desk' };
const record = { hostId: 'H1', label: 'desk' } as HostRecord;

/** A flow at `origin` with a fake network layer that approves at once. */
function flowAt(origin: string) {
  const paired: HostRecord[] = [];
  const startedAt: string[] = [];
  const flow = createPairFlow({
    origin,
    device: () => ({ name: 'phone', platform: 'test' }),
    onPaired: async (r) => void paired.push(r),
    loadNet: async () =>
      ({
        targetFromLink: () => target,
        startPairing: async (_t: PairingTarget, _d: unknown, opts: { origin: string }) => {
          startedAt.push(opts.origin);
          return { code: '123456', address: opts.origin, approved: Promise.resolve(record), cancel() {} };
        },
      }) as never,
  });
  const settled = async (): Promise<PairPhase> => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
    return flow.phase();
  };
  return { flow, paired, startedAt, settled };
}

test('a link for the page’s own origin pairs at once', async () => {
  const f = flowAt(STABLE);
  f.flow.fromLink('pair=abc');
  assert.deepEqual(await f.settled(), { step: 'done', host: 'desk' });
  assert.deepEqual(f.startedAt, [STABLE]);
});

test('a link for another origin stops before using the offer: go to the stable address, or pair here', async () => {
  const f = flowAt('https://192.168.1.20:8787');
  f.flow.fromLink('pair=abc');
  assert.deepEqual(await f.settled(), { step: 'elsewhere', host: 'desk', stable: STABLE, link: `${STABLE}/#pair=abc` });
  assert.deepEqual(f.startedAt, [], 'the offer is still unused');
  f.flow.pairHere();
  assert.deepEqual(await f.settled(), { step: 'done', host: 'desk' });
  assert.deepEqual(f.startedAt, ['https://192.168.1.20:8787']);
  assert.equal(f.paired.length, 1);
});

test('start over forgets the held link', async () => {
  const f = flowAt('http://other:1');
  f.flow.fromLink('pair=abc');
  assert.equal((await f.settled()).step, 'elsewhere');
  f.flow.reset();
  f.flow.pairHere();
  assert.deepEqual(await f.settled(), { step: 'start' });
  assert.deepEqual(f.startedAt, []);
});
