/**
 * What the host's terminal says at start: where phones open it, and how pairing goes from here.
 * Pure text, so tests read exactly what a person sees.
 * @module
 */
import { isLoopbackAddress, isLoopbackHost } from '../metrics/loopback.ts';

export interface BannerInfo {
  version: string;
  bind: string;
  port: number;
  /** Base URLs a phone may use, best first (Host.urls()). */
  urls: string[];
  publicUrl?: string;
  listeningAfterMs: number;
  trustUrl?: string;
  /** Lines about the admin page (its sign-in link), already formatted. */
  adminLines: string[];
  workspaces: string[];
  dataDir: string;
  opencodeUrl?: string;
  /** A LAN address of this computer to suggest for --bind, when it has one. */
  lanAddress?: string;
}

/** Whether phones can reach the host: not when it listens on loopback only, with no public URL in front. */
export function phonesCanReach(bind: string, publicUrl: string | undefined): boolean {
  return Boolean(publicUrl) || !(isLoopbackAddress(bind) || isLoopbackHost(bind));
}

export function formatBanner(b: BannerInfo): string {
  const [first, ...rest] = b.urls;
  const reach = phonesCanReach(b.bind, b.publicUrl)
    ? [`  Open on your phone: ${first}${rest.length ? `  (also ${rest.join(', ')})` : ''}`]
    : [
        `  Phones cannot reach this host: it listens on ${b.bind}, which only this computer can open.`,
        `  To let phones in, start it with --bind 0.0.0.0 (every network of this computer)` +
          (b.lanAddress ? ` or --bind ${b.lanAddress} (this LAN address only).` : " or --bind <this computer's LAN address>."),
      ];
  return [
    `OpenWork Relay ${b.version}`,
    ...reach,
    `  Listening on:       ${b.bind}:${b.port}${first?.startsWith('https:') ? ' (HTTPS)' : ''}, after ${Math.round(b.listeningAfterMs)} ms`,
    ...(b.trustUrl ? [`  First time on a phone? Open ${b.trustUrl}/ to trust this host's certificate.`] : []),
    ...b.adminLines,
    `  Workspace:          ${b.workspaces.join(', ')}`,
    `  Data directory:     ${b.dataDir}`,
    `  Runtime:            ${b.opencodeUrl ? `OpenCode at ${b.opencodeUrl}` : 'OpenCode'} is starting…`,
    '  Stop with Ctrl-C.',
    '',
  ].join('\n');
}

/**
 * The line said instead of a pairing QR code: with devices paired already, or when phones cannot
 * reach the host. `keys`: whether the terminal takes the p key.
 */
export function pairingReminder(paired: number, reachable: boolean, keys: boolean): string {
  const how = keys ? 'press p for a pairing QR code, or run `npm start -- pair`' : 'run `npm start -- pair` for a pairing code';
  if (!reachable) return `No phone can pair while the host listens on loopback only (see above). To pair a browser on this computer, ${how}.\n`;
  return `${paired} device${paired === 1 ? ' is' : 's are'} paired. To pair another phone, ${how}.\n`;
}
