/**
 * Security headers sent with every HTTP response of the host.
 *
 * The policy fits a Vite-built PWA with a service worker: no inline scripts or styles, the socket
 * on the same host (ws: or wss:), blobs and data: URLs only for images and media (QR scanning, avatars),
 * and the camera for scanning the pairing QR code.
 * @module
 */
import type { HeaderList } from '../uws/respond.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self'",
  "manifest-src 'self'",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Only the camera (QR pairing) is allowed, and only for this origin; other powerful features are off. */
export const PERMISSIONS_POLICY = [
  'camera=(self)',
  'microphone=()',
  'geolocation=()',
  'payment=()',
  'usb=()',
  'serial=()',
  'hid=()',
  'bluetooth=()',
  'midi=()',
  'display-capture=()',
].join(', ');

export const SECURITY_HEADERS: HeaderList = [
  ['Content-Security-Policy', CONTENT_SECURITY_POLICY],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Frame-Options', 'DENY'],
  ['Permissions-Policy', PERMISSIONS_POLICY],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
];
