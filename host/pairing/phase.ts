/**
 * The pairing phase of one connection, from a pairing hello (mode 0x01) to a stored device:
 *
 *   0x01 IKpsk2, live offer → confirm ─(first frame authenticated)→ pending ── approved ──→ device stored
 *                              (msg2, pair.pending)                          └─ declined / expired → closed
 *
 * The approval is asked for only after the device's first transport frame authenticates: that
 * frame proves it derived the same keys, i.e. knew the offer's secret, so a wrong guess never
 * reaches the person at the host. Every outcome is recorded with the offer store (and so in the
 * host's metrics). The connection (host/channel/connection.ts) owns the socket and the frames; it
 * starts this phase, tells it when the first frame arrived and when the socket is gone.
 * @module
 */
import { safeText } from '../../shared/text/safe-text.ts';
import { wipe } from '../../shared/noise/bytes.ts';
import { verificationCode } from '../../shared/noise/sas.ts';
import { createTransport, type Transport } from '../../shared/noise/transport.ts';
import { MODE, hostHandshake } from '../../shared/channel/handshake.ts';
import type { CloseErrorCode, CloseInfo } from '../../shared/channel/close.ts';
import type { DeviceHello, HostMessage } from '../../shared/protocol/messages.ts';
import type { Logger } from '../log.ts';
import type { HostIdentity } from '../identity.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Device } from '../devices/store.ts';
import type { Approvals } from './approvals.ts';
import type { ClaimRefusal, OfferStore, PairingOutcome } from './offers.ts';

export interface PairingContext {
  identity: HostIdentity;
  offers: OfferStore;
  approvals: Approvals;
  devices: DeviceRegistry;
  log: Logger;
}

/** What the pairing phase needs of its connection. */
export interface PairingLink {
  readonly remoteAddress: string;
  /** Sends handshake message 2 (not a transport frame). */
  sendRaw(bytes: Uint8Array): void;
  /** The handshake is done: every frame from now on is sealed and opened with `transport`. */
  secured(transport: Transport): void;
  /** The connection's phase as it shows (`Connection.phase`). */
  enter(phase: 'confirm' | 'pending'): void;
  send(message: HostMessage): void;
  closeWith(code: CloseErrorCode, text?: string): void;
  close(info: CloseInfo): void;
  /** Parses the hello; closes the connection and returns undefined when it is unusable. */
  readHello(payload: Uint8Array): DeviceHello | undefined;
  /** Whether the hello speaks this host's protocol; closes the connection when not. */
  speaksOurs(hello: DeviceHello): boolean;
  handshakeFailed(err: unknown): void;
  /** The person approved and the device is stored: the connection opens for it. */
  approved(device: Device): void;
}

export interface PairingPhase {
  /** Handshake message 1 of a pairing hello (after the mode byte). */
  start(msg1: Uint8Array): void;
  /** The device's first transport frame authenticated: the person at the host is asked. */
  confirmed(): void;
  /** The connection is gone (`was`: its phase until then): records how pairing ended and cancels a waiting approval. */
  end(was: string): void;
}

interface Pairing {
  hello: DeviceHello;
  publicKey: Uint8Array;
  code: string;
  expiresAt: number;
}

const CLAIM_OUTCOMES: Record<ClaimRefusal, PairingOutcome> = {
  'pair.unknown': 'unknown',
  'pair.used': 'used',
  'pair.expired': 'expired',
  'pair.rate-limited': 'rate-limited',
};

const CLAIM_TEXT: Record<ClaimRefusal, string> = {
  'pair.unknown': 'this host has no such offer; scan the QR code it shows now',
  'pair.used': 'this offer was used already; make a new one at the host',
  'pair.expired': 'this offer expired; make a new one at the host',
  'pair.rate-limited': 'too many attempts; wait a minute',
};

export function createPairingPhase(ctx: PairingContext, link: PairingLink): PairingPhase {
  const { log } = ctx;
  const { send, closeWith, close } = link;
  let pairing: Pairing | undefined;
  let approvalId: string | undefined;
  /** Whether the connection still waits for the person's decision. */
  let pending = false;

  function pair(msg1: Uint8Array): void {
    if (!ctx.offers.admit(link.remoteAddress)) {
      ctx.offers.record('rate-limited');
      return closeWith('pair.rate-limited', CLAIM_TEXT['pair.rate-limited']);
    }
    // IKpsk2 mixes the psk in only at the end of message 2, so message 1 reads the same with any
    // psk: read it once to learn which offer it names, then again with that offer's psk.
    let payload: Uint8Array;
    try {
      payload = hostHandshake(MODE.pair, ctx.identity.keyPair, new Uint8Array(32)).readMessage(msg1);
    } catch (err) {
      ctx.offers.record('handshake-failed', link.remoteAddress);
      return link.handshakeFailed(err);
    }
    const hello = link.readHello(payload);
    if (!hello) return ctx.offers.record('invalid', link.remoteAddress);
    if (hello.offer === undefined) {
      ctx.offers.record('invalid', link.remoteAddress);
      return closeWith('protocol.invalid', 'hello.offer: a pairing hello names its offer');
    }
    const claim = ctx.offers.claim(hello.offer);
    if (!claim.ok) {
      ctx.offers.record(CLAIM_OUTCOMES[claim.reason], link.remoteAddress);
      log.info('pairing refused', { remoteAddress: link.remoteAddress, reason: claim.reason });
      return closeWith(claim.reason, CLAIM_TEXT[claim.reason]);
    }
    // Checked after the claim: the first handshake naming an offer uses it up, whatever happens next.
    if (!link.speaksOurs(hello)) {
      wipe(claim.psk);
      return ctx.offers.record('invalid', link.remoteAddress);
    }
    const hs = hostHandshake(MODE.pair, ctx.identity.keyPair, claim.psk);
    wipe(claim.psk);
    hs.readMessage(msg1);
    const msg2 = hs.writeMessage();
    const result = hs.result();
    link.sendRaw(msg2);
    link.secured(createTransport(result));
    const code = verificationCode(result.handshakeHash);
    pairing = { hello, publicKey: result.remoteStatic!, code, expiresAt: claim.offer.expiresAt };
    link.enter('confirm');
    send({ t: 'pair.pending', code });
  }

  function askApproval(p: Pairing): void {
    link.enter('pending');
    pending = true;
    // Made safe once, here: the prompt, the admin page, the device list and devices.json all show these.
    const name = safeText(p.hello.name);
    const platform = safeText(p.hello.platform);
    const { id, decision } = ctx.approvals.request({ name, platform, code: p.code, remoteAddress: link.remoteAddress, expiresAt: p.expiresAt });
    approvalId = id;
    log.info('pairing waits for approval', { name, platform, remoteAddress: link.remoteAddress });
    decision
      .then((d) => {
        if (!pending) return; // the device left meanwhile
        pending = false;
        approvalId = undefined;
        if (d.approved) {
          const device = ctx.devices.add({ name, platform, publicKey: p.publicKey, scopes: d.scopes });
          ctx.offers.record('approved');
          log.info('device paired', { device: device.id, name: device.name });
          send({ t: 'pair.approved', deviceId: device.id });
          link.approved(device);
        } else if (d.reason === 'declined') {
          ctx.offers.record('declined');
          closeWith('pair.declined', 'the person at the host said no');
        } else if (d.reason === 'expired') {
          ctx.offers.record('expired');
          closeWith('pair.expired', 'nobody approved this device before the offer expired');
        }
      })
      .catch((err) => {
        log.error('could not store the paired device', { err });
        close({ code: 1011, reason: 'the host could not store the device; see its log' });
      });
  }

  return {
    start: pair,
    confirmed: () => askApproval(pairing!),
    end(was) {
      pending = false;
      if (pairing) wipe(pairing.publicKey);
      // Left before proving it knew the secret: most likely a wrong secret (it could not read msg2).
      if (was === 'confirm') ctx.offers.record('handshake-failed', link.remoteAddress);
      if (approvalId !== undefined) {
        ctx.offers.record('abandoned');
        ctx.approvals.cancel(approvalId);
        approvalId = undefined;
      }
    },
  };
}
