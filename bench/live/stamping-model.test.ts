import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readStamps, startStampingModel, stampDirective } from './stamping-model.ts';

const model = await startStampingModel();
after(() => model.close());

async function stream(text: string): Promise<string> {
  const res = await fetch(`${model.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stream: true, tools: [{ type: 'function' }], messages: [{ role: 'user', content: text }] }),
  });
  const deltas = (await res.text())
    .split('\n\n')
    .filter((b) => b.startsWith('data: {'))
    .map((b) => (JSON.parse(b.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]!.delta.content ?? '');
  return deltas.join('');
}

test('streams the asked number of deltas, each stamped with its number, tag and write time', async () => {
  const before = Date.now();
  const text = await stream(`please ${stampDirective(5, 1, 'rb')}`);
  const stamps = readStamps(text);
  assert.deepEqual(
    stamps.map((s) => s.n),
    [1, 2, 3, 4, 5],
  );
  assert.equal(text.match(/rb\d+@/g)?.length, 5);
  for (const s of stamps) assert.ok(s.at >= before - 1 && s.at <= Date.now() + 1, `stamp ${s.at} is a time of this run`);
  assert.equal(model.written, 5);
  assert.deepEqual(readStamps(await stream('no directive')), []);
});
