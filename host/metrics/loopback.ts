/**
 * "Only from this machine" checks for the host's local-only pages (`/metrics`, the admin page).
 *
 * The peer address alone is not enough: a tunnel or reverse proxy on this machine (cloudflared,
 * `tailscale serve`, nginx) connects from 127.0.0.1 on behalf of someone outside, and a web page
 * can point its own domain at 127.0.0.1 (DNS rebinding). So a request also has to name a loopback
 * host in `Host` and carry no forwarding headers.
 * @module
 */
import { isIP } from 'node:net';

/**
 * Whether `text` is a loopback IP address: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x (in any
 * notation, including uWS's uncompressed `0000:…:ffff:7f00:0001`). Host names are not addresses: false.
 */
export function isLoopbackAddress(text: string): boolean {
  const address = text.trim().replace(/^\[(.*)\]$/, '$1');
  const kind = isIP(address);
  if (kind === 4) return address.startsWith('127.');
  if (kind !== 6) return false;
  const bytes = ipv6Bytes(address.replace(/%.*$/, ''));
  if (!bytes) return false;
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  if (zeros(0, 15) && bytes[15] === 1) return true;
  return zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff && bytes[12] === 127;
}

/** Whether a `Host` header names this machine by a loopback name or address (with or without a port). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d*$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name);
}

export interface LocalRequest {
  /** The peer address as text (uWS `res.getRemoteAddressAsText()`). */
  remoteAddress: string;
  /** The `Host` header. */
  host: string;
  /** Whether any of FORWARDING_HEADERS was present. */
  forwarded: boolean;
}

/**
 * Headers a proxy or tunnel adds: a request carrying any of them came through one, so it is not
 * local whatever its peer address says (X-Forwarded-Host too: it is how a tunnel says which name
 * the outside world used).
 */
export const FORWARDING_HEADERS: readonly string[] = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip'];

/** `undefined` when the request comes from this machine itself; otherwise why it does not. */
export function whyNotLocal(req: LocalRequest): string | undefined {
  if (!isLoopbackAddress(req.remoteAddress)) return 'the request does not come from this machine';
  if (req.forwarded) return 'the request was forwarded by a proxy or tunnel';
  if (!isLoopbackHost(req.host)) return 'the request does not name this machine (use http://127.0.0.1 or http://localhost)';
  return undefined;
}

/** Expands an IPv6 address (already validated by `isIP`) to its 16 bytes. */
function ipv6Bytes(address: string): number[] | undefined {
  // An embedded IPv4 tail (::ffff:127.0.0.1) becomes the two hex groups it stands for.
  const text = address.toLowerCase().replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const groups = rest === undefined ? left : [...left, ...new Array<number>(Math.max(8 - left.length - right.length, 0)).fill(0), ...right];
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}
