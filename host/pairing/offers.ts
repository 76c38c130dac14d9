/**
 * Pairing offers: what the QR code and the typed code carry. An offer is good once and for a few
 * minutes; the first handshake that names it uses it up, whatever happens next, so a photo of an
 * old QR code (or a second device racing the first) gets nowhere. Once an offer expires or is
 * used its secrets are wiped; only its ids are remembered for an hour, to tell a late device
 * "used" or "expired" rather than "unknown".
 *
 * Failed attempts are limited per remote address and claims per offer id, so guessing is slow
 * while a fresh, valid offer always pairs (a household behind one address pairs many phones in a
 * minute); the counters are for the metrics page.
 * @module
 */
import { randomBytes } from '../../shared/noise/primitives.ts';
import { wipe } from '../../shared/noise/bytes.ts';
import { toBase32, toBase64url } from '../../shared/encoding.ts';
import { codeOfferId, codeSecretBytes, pairingPsk, CODE_SECRET_CHARS } from '../../shared/pairing/keys.ts';
import { buildPairLink, buildTypedCode } from '../../shared/pairing/link.ts';
import { createRateLimiter } from './rate-limit.ts';

export const DEFAULT_OFFER_TTL_MS = 5 * 60_000;

export interface Offer {
  /** 16 base64url characters, carried by the QR link. */
  readonly id: string;
  /** 32 bytes, carried by the QR link. */
  readonly secret: Uint8Array;
  /** 10 Crockford characters, the second half of the typed code. */
  readonly codeSecret: string;
  /** The id a typed-code device names instead of `id`. */
  readonly codeId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * An offer as it is shown and handed out: the terminal, `npm start -- pair` (over the control
 * channel) and the admin page all show this. Its secret travels only inside `link` and `code`.
 */
export interface OfferView {
  /** The offer's id (also inside the link), to tell whether it is still live. */
  id: string;
  link: string;
  code: string;
  /** Where a phone without a camera opens the app to type the code. */
  origin: string;
  expiresAt: number;
}

export type ClaimRefusal = 'pair.unknown' | 'pair.used' | 'pair.expired' | 'pair.rate-limited';
export type Claim = { ok: true; offer: Offer; psk: Uint8Array; via: 'link' | 'code' } | { ok: false; reason: ClaimRefusal };

export const OUTCOMES = ['approved', 'declined', 'expired', 'used', 'unknown', 'rate-limited', 'handshake-failed', 'abandoned', 'invalid'] as const;
export type PairingOutcome = (typeof OUTCOMES)[number];

export interface PairingCounters {
  /** Pairing handshakes started (each one's first message arrived). */
  attempts: number;
  outcomes: Record<PairingOutcome, number>;
}

export interface LinkContext {
  origin: string;
  addresses: string[];
  hostName: string;
}

export interface OfferStore {
  create(opts?: { ttlMs?: number }): Offer;
  /** Counts an attempt from `remoteAddress`; false when that address failed too often lately. */
  admit(remoteAddress: string): boolean;
  /** Uses up the offer with this offer id or typed-code id. */
  claim(id: string): Claim;
  link(offer: Offer, ctx: LinkContext): string;
  typedCode(offer: Offer): string;
  /** Offers still waiting to be used, newest last. */
  active(): Offer[];
  /** Counts an outcome; a failed one with the address it came from counts against that address's limit. */
  record(outcome: PairingOutcome, remoteAddress?: string): void;
  readonly counters: Readonly<PairingCounters>;
  /** Wipes every secret and clears every timer. */
  close(): void;
}

export interface OfferStoreOptions {
  hostKey: Uint8Array;
  ttlMs?: number;
  now?: () => number;
  /** Failed attempts per remote address per window (default 5 a minute). */
  perAddress?: number;
  /** Attempts naming one offer per window (default 3 a minute). */
  perOffer?: number;
  windowMs?: number;
  /** Told of every outcome as it is recorded (the host's metrics). */
  onOutcome?: (outcome: PairingOutcome) => void;
}

/** Outcomes of an attempt that did not reach the person at the host: a guess, a stale offer, garbage. */
const FAILED: ReadonlySet<PairingOutcome> = new Set(['unknown', 'used', 'expired', 'rate-limited', 'handshake-failed', 'invalid']);

/** How long a used or expired offer's ids are remembered, and how many at most. */
const GONE_MS = 60 * 60_000;
const MAX_GONE = 1000;

export function createOfferStore(opts: OfferStoreOptions): OfferStore {
  const now = opts.now ?? Date.now;
  const windowMs = opts.windowMs ?? 60_000;
  const byAddress = createRateLimiter({ limit: opts.perAddress ?? 5, windowMs, now });
  const byOffer = createRateLimiter({ limit: opts.perOffer ?? 3, windowMs, now });
  const live = new Map<string, { offer: Offer; timer: ReturnType<typeof setTimeout> }>();
  /** offer id or code id → its live offer's id. */
  const ids = new Map<string, string>();
  const gone = new Map<string, { why: 'pair.used' | 'pair.expired'; until: number }>();
  const counters: PairingCounters = { attempts: 0, outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<PairingOutcome, number> };

  const forget = (offer: Offer, why: 'pair.used' | 'pair.expired') => {
    const entry = live.get(offer.id);
    if (!entry) return;
    clearTimeout(entry.timer);
    live.delete(offer.id);
    const until = now() + GONE_MS;
    for (const id of [offer.id, offer.codeId]) {
      ids.delete(id);
      gone.set(id, { why, until });
    }
    for (const [id, g] of gone) if (gone.size > MAX_GONE || g.until <= now()) gone.delete(id);
    wipe(offer.secret);
  };

  return {
    create({ ttlMs = opts.ttlMs ?? DEFAULT_OFFER_TTL_MS } = {}) {
      const codeSecret = toBase32(randomBytes(7)).slice(0, CODE_SECRET_CHARS);
      const createdAt = now();
      const offer: Offer = {
        id: toBase64url(randomBytes(12)),
        secret: randomBytes(32),
        codeSecret,
        codeId: codeOfferId(codeSecret),
        createdAt,
        expiresAt: createdAt + ttlMs,
      };
      const timer = setTimeout(() => forget(offer, 'pair.expired'), ttlMs);
      timer.unref();
      live.set(offer.id, { offer, timer });
      ids.set(offer.id, offer.id);
      ids.set(offer.codeId, offer.id);
      return offer;
    },
    admit(remoteAddress) {
      counters.attempts++;
      return byAddress.allows(remoteAddress);
    },
    claim(id) {
      if (!byOffer.take(id)) return { ok: false, reason: 'pair.rate-limited' };
      const offer = live.get(ids.get(id) ?? '')?.offer;
      if (!offer) {
        const g = gone.get(id);
        return { ok: false, reason: g && g.until > now() ? g.why : 'pair.unknown' };
      }
      if (offer.expiresAt <= now()) {
        forget(offer, 'pair.expired');
        return { ok: false, reason: 'pair.expired' };
      }
      const via = id === offer.id ? 'link' : 'code';
      const psk = pairingPsk(via === 'link' ? offer.secret : codeSecretBytes(offer.codeSecret));
      forget(offer, 'pair.used');
      return { ok: true, offer, psk, via };
    },
    link(offer, ctx) {
      return buildPairLink(ctx.origin, {
        hostKey: opts.hostKey,
        offerId: offer.id,
        secret: offer.secret,
        addresses: ctx.addresses,
        hostName: ctx.hostName,
        expiresAt: Math.ceil(offer.expiresAt / 1000),
      });
    },
    typedCode: (offer) => buildTypedCode(opts.hostKey, offer.codeSecret),
    active: () => [...live.values()].map((e) => e.offer),
    record(outcome, remoteAddress) {
      counters.outcomes[outcome]++;
      if (remoteAddress !== undefined && FAILED.has(outcome)) byAddress.take(remoteAddress);
      opts.onOutcome?.(outcome);
    },
    counters,
    close() {
      for (const { offer } of [...live.values()]) forget(offer, 'pair.expired');
    },
  };
}
