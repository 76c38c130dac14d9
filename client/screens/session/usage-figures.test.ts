import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cost, tokenRows, tokens, usageLine } from './usage-figures.ts';

const none = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };

test('token counts and costs fit a phone header', () => {
  assert.deepEqual([0, 950, 1000, 12_345, 999_999, 1_200_000].map(tokens), ['0', '950', '1k', '12k', '1M', '1.2M']);
  assert.deepEqual([2.5, 0.42, 0.00006, 0.0031, 0.5, 1e-9].map(cost), ['$2.50', '$0.42', '$0.00006', '$0.0031', '$0.5', '<$0.000001']);
});

test("the header line: the context against the model's window, and the cost only when priced", () => {
  assert.equal(usageLine({ tokens: none }), 'No finished reply yet');
  assert.equal(usageLine({ tokens: none, context: { providerId: 'p', modelId: 'm', used: 12_000, limit: 200_000 } }), 'Context 12k of 200k (6%)');
  assert.equal(usageLine({ tokens: none, cost: 0.42, context: { providerId: 'p', modelId: 'm', used: 20 } }), 'Context 20 tokens · $0.42');
  assert.deepEqual(
    tokenRows({ tokens: { ...none, input: 1500, cacheRead: 7 } })
      .slice(0, 1)
      .concat(tokenRows({ tokens: { ...none, cacheRead: 7 } }).slice(3, 4)),
    [
      ['Input', '1.5k'],
      ['Cache read', '7'],
    ],
  );
});
