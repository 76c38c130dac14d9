/**
 * A session's usage (`session.usage`) in words for the session header: how full the model's
 * context is, the tokens by kind, and the cost when the provider priced the replies.
 * @module
 */
import type { SessionUsage } from '../../../shared/protocol/usage.ts';

/** 950, 12.3k, 1.2M: a token count that fits a phone's header. */
export function tokens(n: number): string {
  if (n < 1000) return String(n);
  // 999,999 reads as 1M, not 1000k.
  if (n < 999_500) return `${trim(n / 1000)}k`;
  return `${trim(n / 1_000_000)}M`;
}

function trim(x: number): string {
  return (x < 10 ? x.toFixed(1) : Math.round(x).toString()).replace(/\.0$/, '');
}

/** $2.50, $0.42, $0.00006: small costs keep two significant digits. */
export function cost(usd: number): string {
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  if (usd < 0.000001) return '<$0.000001';
  return `$${usd.toPrecision(2).replace(/\.?0+$/, '')}`;
}

/** The header's one line: "Context 12k of 200k (6%) · $0.42". */
export function usageLine(u: SessionUsage): string {
  const parts: string[] = [];
  const c = u.context;
  if (!c) parts.push('No finished reply yet');
  else if (c.limit) parts.push(`Context ${tokens(c.used)} of ${tokens(c.limit)} (${Math.min(100, Math.round((c.used / c.limit) * 100))}%)`);
  else parts.push(`Context ${tokens(c.used)} tokens`);
  if (u.cost !== undefined) parts.push(cost(u.cost));
  return parts.join(' · ');
}

/** Each kind of token, for the details under the line. */
export function tokenRows(u: SessionUsage): Array<[string, string]> {
  const t = u.tokens;
  return [
    ['Input', tokens(t.input)],
    ['Output', tokens(t.output)],
    ['Reasoning', tokens(t.reasoning)],
    ['Cache read', tokens(t.cacheRead)],
    ['Cache write', tokens(t.cacheWrite)],
  ];
}
