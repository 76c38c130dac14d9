/**
 * `GET /metrics`: Prometheus text for a scraper on this machine only; anyone else gets 403.
 * See loopback.ts for why the peer address alone does not decide that.
 * @module
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from '@trufflesuite/uws-js-unofficial';
import { silentLogger, type Logger } from '../log.ts';
import { SECURITY_HEADERS } from '../server/headers.ts';
import { sendResponse, track, type Reply } from '../uws/respond.ts';
import { FORWARDING_HEADERS, whyNotLocal } from './loopback.ts';
import type { Metrics } from './metrics.ts';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.ts';

export const METRICS_PATH = '/metrics';

const TEXT = 'text/plain; charset=utf-8';

export function mountMetricsRoute(app: TemplatedApp, metrics: Pick<Metrics, 'enabled' | 'prometheus'>, log: Logger = silentLogger): void {
  app.any(METRICS_PATH, (res: HttpResponse, req: HttpRequest) => {
    const state = track(res);
    // Everything from req must be read now: uWS invalidates it when the handler returns.
    const method = req.getMethod();
    const refusal = whyNotLocal({
      remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
      host: req.getHeader('host'),
      forwarded: FORWARDING_HEADERS.some((h) => req.getHeader(h) !== ''),
    });
    let reply: Reply;
    if (method !== 'get' && method !== 'head') {
      reply = {
        status: 405,
        headers: [
          ['Allow', 'GET, HEAD'],
          ['Content-Type', TEXT],
        ],
        body: 'method not allowed',
      };
    } else if (refusal) {
      reply = { status: 403, headers: [['Content-Type', TEXT]], body: `${refusal}: ${METRICS_PATH} answers only on the host itself (loopback)\n` };
    } else if (!metrics.enabled) {
      reply = { status: 404, headers: [['Content-Type', TEXT]], body: 'metrics are turned off (--no-metrics)\n' };
    } else {
      try {
        reply = { status: 200, headers: [['Content-Type', PROMETHEUS_CONTENT_TYPE]], body: metrics.prometheus(), omitBody: method === 'head' };
      } catch (err) {
        log.error('metrics could not be rendered', { err });
        reply = { status: 500, headers: [['Content-Type', TEXT]], body: 'internal error' };
      }
    }
    sendResponse(res, state, {
      ...reply,
      headers: [...SECURITY_HEADERS, ['Cache-Control', 'no-store'], ...(reply.headers ?? [])],
    });
  });
}
