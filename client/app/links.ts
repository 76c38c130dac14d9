/**
 * Pages the host serves beside the app, built from docs/ by the app's build (client/docs/page.ts)
 * and kept away from the app shell by the service worker (sw/sw.ts): how to set up HTTPS on the
 * computer (docs/tls.md), and the troubleshooting guide (docs/troubleshooting.md).
 * @module
 */
export const TRUST_URL = '/trust';
export const TROUBLESHOOTING_URL = '/troubleshooting';

/** The guide, at the section for `code` when given: its heading's id is the code without dots ("pair.expired" → #pairexpired). */
export function troubleshootingUrl(code?: string): string {
  return code ? `${TROUBLESHOOTING_URL}#${code.replace(/\./g, '')}` : TROUBLESHOOTING_URL;
}
