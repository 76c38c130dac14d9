/**
 * Which link targets in the agent's text may be followed (render.ts): web and mail only, never
 * `javascript:` or `data:`, so a link can neither run script nor aim at the app itself.
 * @module
 */

export function safeHref(href: string): string | undefined {
  const trimmed = href.trim();
  return /^(https?:\/\/|mailto:)/i.test(trimmed) && !/[\s<>"]/.test(trimmed) ? trimmed : undefined;
}
