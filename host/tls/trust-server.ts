/**
 * The plain-HTTP side of a host that serves HTTPS: the "trust this computer" page, the local CA
 * for download (DER at /ca.crt, PEM at /ca.pem) and nothing else. Any other GET is sent to the
 * page, any other method gets 404. uWS serves one protocol per port, so this listens on a port of
 * its own (by default the HTTPS port + 1).
 *
 * The page has no script (the CSP forbids inline ones and it needs none): each platform's steps
 * are <details> a person opens.
 * @module
 */
import type { TemplatedApp, us_listen_socket } from '@trufflesuite/uws-js-unofficial';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log.ts';
import { projectPath } from '../paths.ts';
import { closeApp, guardedRoute, listenExclusive } from '../server/http.ts';
import type { Uws } from '../uws/load.ts';
import type { HeaderList, Reply } from '../uws/respond.ts';

export const CA_DER_TYPE = 'application/x-x509-ca-cert';
export const CA_PEM_TYPE = 'application/x-pem-file';
const CA_FILE_NAME = 'openwork-relay-ca';

export interface TrustServerOptions {
  uws: Uws;
  log: Logger;
  /** The local CA to offer; undefined with own certificates: the page then only points to HTTPS. */
  ca?: { certPem: string; fingerprint: string };
  /** The app's HTTPS addresses, best first: `hostUrls({ ..., tls: true, port: <HTTPS port> })`. */
  httpsUrls: () => string[];
}

export interface TrustServer {
  app: TemplatedApp;
  listen(host: string, port: number): Promise<{ port: number }>;
  close(): void;
}

/** The plain-HTTP port beside HTTPS `port`: the next one, or any free one when `port` is 0 or the last. */
export function defaultTrustPort(port: number): number {
  return port === 0 || port >= 65535 ? 0 : port + 1;
}

const page = (name: string) => readFileSync(projectPath('host', 'tls', 'pages', name), 'utf8');

export function createTrustServer(opts: TrustServerOptions): TrustServer {
  const { uws, log } = opts;
  const respond = trustSite(opts);
  const app = uws.App();
  let listenSocket: us_listen_socket | undefined;
  const notFound: Reply = { status: 404, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: 'not found' };
  app.any(
    '/*',
    guardedRoute(log, (req, method) => ({ ...respond(req.getUrl(), req.getHeader('host')), omitBody: method === 'head' }), notFound),
  );
  return {
    app,
    async listen(host, port) {
      if (listenSocket) throw new Error('the trust page server is already listening');
      const bound = await listenExclusive(uws, app, host, port);
      if (!bound) {
        throw new Error(
          `cannot listen on ${host}:${port} for the plain-HTTP trust page: the port is in use or the address is not ` +
            'on this machine: stop the other program or choose another port',
        );
      }
      listenSocket = bound.socket;
      log.info('trust page listening (plain HTTP)', { host, port: bound.port });
      return { port: bound.port };
    },
    close() {
      if (listenSocket) uws.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
      closeApp(app);
    },
  };
}

/** The page and files by path; `host` is the Host header, to put the address the person used first. */
export function trustSite(opts: Pick<TrustServerOptions, 'ca' | 'httpsUrls'>): (path: string, host: string) => Reply {
  const css = page('trust.css');
  const files = new Map<string, Reply>([
    [
      '/trust.css',
      {
        status: 200,
        headers: [
          ['Content-Type', 'text/css; charset=utf-8'],
          ['Cache-Control', 'no-cache'],
        ],
        body: css,
      },
    ],
  ]);
  let template = page('https.html');
  if (opts.ca) {
    const cert = new X509Certificate(opts.ca.certPem);
    const caName = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? 'OpenWork Relay local CA';
    // Line breaks only between bytes, so no pair of hex digits is split on a narrow screen.
    const fingerprintHtml = opts.ca.fingerprint.split(':').map(escapeHtml).join(':<wbr>');
    template = fill(page('trust.html'), { fingerprintHtml, caName });
    files.set('/ca.crt', download(CA_DER_TYPE, `${CA_FILE_NAME}.crt`, cert.raw));
    files.set('/ca.pem', download(CA_PEM_TYPE, `${CA_FILE_NAME}.pem`, opts.ca.certPem));
  }
  return (path, host) => {
    if (path === '/') {
      const links = orderedLinks(opts.httpsUrls(), host);
      return {
        status: 200,
        headers: [
          ['Content-Type', 'text/html; charset=utf-8'],
          ['Cache-Control', 'no-cache'],
        ],
        body: fill(template, { linksHtml: linksHtml(links) }),
      };
    }
    return (
      files.get(path) ?? {
        status: 302,
        headers: [
          ['Location', '/'],
          ['Content-Type', 'text/plain; charset=utf-8'],
          ['Cache-Control', 'no-store'],
        ],
        body: 'see /',
      }
    );
  };
}

function download(type: string, fileName: string, body: string | Buffer): Reply {
  // `inline` with a file name, as mitmproxy's mitm.it does: iOS Safari then offers the profile and
  // Android saves the file under that name.
  const headers: HeaderList = [
    ['Content-Type', type],
    ['Content-Disposition', `inline; filename="${fileName}"`],
    ['Cache-Control', 'no-cache'],
  ];
  return { status: 200, headers, body };
}

/**
 * The HTTPS URLs with the one for the host name the person reached this page by first: their
 * phone can resolve that name. Only names the host already offers are moved, never echoed.
 */
export function orderedLinks(urls: string[], hostHeader: string): string[] {
  const reached = hostnameOf(hostHeader);
  const index = urls.findIndex((u) => new URL(u).hostname.toLowerCase() === reached);
  return index > 0 ? [urls[index]!, ...urls.slice(0, index), ...urls.slice(index + 1)] : urls;
}

function hostnameOf(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return '';
  }
}

function linksHtml(urls: string[]): string {
  return urls.map((url, i) => `<li><a ${i === 0 ? 'class="button" ' : ''}href="${escapeHtml(url)}/">${escapeHtml(url.replace(/^https:\/\//, ''))}</a></li>`).join('\n');
}

/** Replaces `{{name}}`: values are escaped unless the name ends in `Html`. Unknown names stay. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) return whole;
    return name.endsWith('Html') ? value : escapeHtml(value);
  });
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
