/**
 * Whether this page can get notifications, and if not, why, in terms a person can act on: plain
 * HTTP (no secure context, so no push), an iPhone or iPad where the app is not on the Home Screen
 * (Safari offers Web Push only to installed apps, iOS 16.4 and later), a browser without push, or
 * notifications blocked for this site.
 * @module
 */
export type NotificationSupport = { ok: true } | { ok: false; reason: 'insecure' | 'ios-not-installed' | 'unsupported' | 'denied' };

export interface PageFacts {
  secure: boolean;
  userAgent: string;
  /** Touch points: iPadOS reports itself as a Mac with touch. */
  maxTouchPoints: number;
  /** Opened from the Home Screen (display-mode standalone, or Safari's `navigator.standalone`). */
  standalone: boolean;
  hasPush: boolean;
  /** `Notification.permission`, or undefined without the API. */
  permission: NotificationPermission | undefined;
}

export function isAppleMobile(f: Pick<PageFacts, 'userAgent' | 'maxTouchPoints'>): boolean {
  return /iPhone|iPad|iPod/.test(f.userAgent) || (/Macintosh/.test(f.userAgent) && f.maxTouchPoints > 1);
}

export function notificationSupport(f: PageFacts): NotificationSupport {
  if (!f.secure) return { ok: false, reason: 'insecure' };
  // Before the API check: Safari outside the Home Screen has no PushManager at all.
  if (isAppleMobile(f) && !f.standalone) return { ok: false, reason: 'ios-not-installed' };
  if (!f.hasPush || f.permission === undefined) return { ok: false, reason: 'unsupported' };
  if (f.permission === 'denied') return { ok: false, reason: 'denied' };
  return { ok: true };
}

export function pageFacts(): PageFacts {
  return {
    secure: window.isSecureContext,
    userAgent: navigator.userAgent,
    maxTouchPoints: navigator.maxTouchPoints,
    standalone: window.matchMedia('(display-mode: standalone)').matches || (navigator as { standalone?: boolean }).standalone === true,
    hasPush: 'serviceWorker' in navigator && 'PushManager' in window,
    permission: 'Notification' in window ? Notification.permission : undefined,
  };
}
