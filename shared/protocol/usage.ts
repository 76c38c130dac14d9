/**
 * How much a session used (`session.usage`): tokens summed over its replies, what its latest reply
 * held in the model's context against the model's limit, and the cost when the provider prices
 * it. The host adds it up from the runtime's stored replies and its provider list.
 * @module
 */
import { defined, int, obj, optInt, optNum, optRecord, str } from './guard.ts';

export interface TokenCounts {
  input: number;
  output: number;
  reasoning: number;
  /** Read from the provider's prompt cache. */
  cacheRead: number;
  /** Written to the provider's prompt cache. */
  cacheWrite: number;
}

export interface SessionUsage {
  /** Summed over the session's replies (not its sub-agents' sessions: each has its own). */
  tokens: TokenCounts;
  /** In the provider's currency unit (USD for the runtime's catalogue); absent when no reply was priced. */
  cost?: number;
  /** The latest reply's model and what it held in context; absent before the first reply. */
  context?: {
    providerId: string;
    modelId: string;
    /** Tokens of the latest reply's model call: its input, output, reasoning and cache. */
    used: number;
    /** The model's context window, when the runtime knows it. */
    limit?: number;
  };
}

const COUNT = { min: 0 };
const NAME = { min: 1, max: 200 };

export function parseSessionUsage(v: unknown, path: string): SessionUsage {
  const o = obj(v, path);
  const t = obj(o.tokens, `${path}.tokens`);
  const tp = `${path}.tokens`;
  const context = optRecord(o, 'context', path);
  const cp = `${path}.context`;
  return defined({
    tokens: {
      input: int(t, 'input', tp, COUNT),
      output: int(t, 'output', tp, COUNT),
      reasoning: int(t, 'reasoning', tp, COUNT),
      cacheRead: int(t, 'cacheRead', tp, COUNT),
      cacheWrite: int(t, 'cacheWrite', tp, COUNT),
    },
    cost: optNum(o, 'cost', path),
    context:
      context &&
      defined({
        providerId: str(context, 'providerId', cp, NAME),
        modelId: str(context, 'modelId', cp, NAME),
        used: int(context, 'used', cp, COUNT),
        limit: optInt(context, 'limit', cp, { min: 1 }),
      }),
  });
}
