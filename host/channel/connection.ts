/**
 * One device connection, from its first binary message to its close:
 *
 *   hello ── 0x03 ──────────────────────────────→ host key sent, closed
 *     ├──── 0x02 IK, known key ─────────────────→ open (welcome)
 *     └──── 0x01 IKpsk2, live offer → confirm ─→ pending ── approved ──→ open (pair.approved, welcome)
 *                                    (msg2,         (first frame      └─ declined / expired → closed
 *                                     pair.pending)   authenticated)
 *
 * Nothing but `ping` is answered before `open`, and only `open` connections receive events. The
 * approval is asked for only after the device's first transport frame authenticates: that frame
 * proves it derived the same keys, i.e. knew the offer's secret, so a wrong guess never reaches
 * the person at the host. Every protocol violation closes the socket with a 44xx code.
 *
 * What an open connection receives follows its device's access as it is at that moment (scopes
 * and workspaces, host/policy/event-access.ts); the relay closes the connection when that access
 * changes, so the app's next welcome lists it and its resync (`access`) reloads what it shows. Every connection, reconnect, resume that needed a
 * reload and failure is counted in the host's metrics (host/metrics/table.ts).
 * @module
 */
import { wipe } from '../../shared/noise/bytes.ts';
import { verificationCode } from '../../shared/noise/sas.ts';
import { ChannelError, DEFAULT_MAX_MESSAGE, createTransport, type ChannelErrorCode, type Transport } from '../../shared/noise/transport.ts';
import { MODE, hostHandshake } from '../../shared/channel/handshake.ts';
import { closeErrorCode, closeFor, type CloseErrorCode, type CloseInfo } from '../../shared/channel/close.ts';
import { RelayError, type ErrorCode } from '../../shared/protocol/errors.ts';
import { ProtocolError, isObj } from '../../shared/protocol/guard.ts';
import {
  PROTOCOL_VERSION, REQUEST_SCOPE, decodeJson, encodeMessage, parseDeviceHello, parseRequest,
  type DeviceHello, type HostInfo, type HostMessage, type Request, type RuntimeStatus,
} from '../../shared/protocol/messages.ts';
import type { Logger } from '../log.ts';
import type { HostIdentity } from '../identity.ts';
import type { Approvals } from '../pairing/approvals.ts';
import type { ClaimRefusal, OfferStore, PairingOutcome } from '../pairing/offers.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Device } from '../devices/store.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { mayReceive } from '../policy/event-access.ts';
import type { WorkspaceGate } from '../policy/workspaces.ts';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import type { EventHub, EventView, Resume, Subscriber } from './hub.ts';

/** The socket as the protocol sees it; `host/server/socket.ts` adapts uWS to this. */
export interface Peer {
  send(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
  readonly remoteAddress: string;
}

/** Requests other than ping, answered by `host/rpc/router.ts`. */
export type RoutedRequest = Exclude<Request, { t: 'ping' }>;

export interface Router {
  /** Resolves with the result's `data`; rejects with a RelayError for an error result. */
  handle(request: RoutedRequest, device: Device): Promise<unknown>;
}

export interface ChannelContext {
  identity: HostIdentity;
  offers: OfferStore;
  approvals: Approvals;
  devices: DeviceRegistry;
  hub: EventHub;
  router: Router;
  /** Per-device workspaces: which a welcome lists, which events a limited device gets. */
  gate: Pick<WorkspaceGate, 'allowed' | 'allowsEvent'>;
  /** Connections, reconnects, resume gaps and failures are counted here. */
  metrics: Pick<Metrics, 'inc'>;
  /** What `welcome` tells a device about the host, as of now. */
  welcomeInfo(): { host: HostInfo; runtime: RuntimeStatus };
  /** Permission requests waiting for an answer now, for a device that must reload (`resync`). */
  pendingPermissions(): PermissionAskedEvent[];
  /** Whether the device's access changed since it last connected (and forgets that it did): it reloads everything. */
  takeAccessChange(deviceId: string): boolean;
  log: Logger;
}

export interface Connection {
  /** One WebSocket message from the device (copied out of the socket's buffer). */
  receive(data: Uint8Array, isBinary: boolean): void;
  /** The socket is gone, with the WebSocket close code it ended with (1006: no close frame); safe to call more than once. */
  closed(code?: number): void;
  /** Closes from the host's side. */
  close(info: CloseInfo): void;
  readonly phase: Phase;
}

export type Phase = 'hello' | 'confirm' | 'pending' | 'open' | 'closed';

interface Pairing {
  hello: DeviceHello;
  publicKey: Uint8Array;
  code: string;
  expiresAt: number;
}

const FRAME_FAILURES: Record<ChannelErrorCode, CloseErrorCode> = {
  'frame.auth': 'frame.auth',
  'frame.size': 'frame.size',
  'message.size': 'frame.size',
  'frame.format': 'protocol.invalid',
  'nonce.exhausted': 'protocol.invalid',
  'channel.closed': 'protocol.invalid',
  'handshake.auth': 'handshake.failed',
  'handshake.format': 'handshake.failed',
};

/** The WebSocket code of a socket that ended without a close frame: the device vanished or went silent (idle timeout). */
const ABNORMAL_CLOSURE = 1006;

/** Host closes that are no failure of the connection: pairing refusals are counted as pairing outcomes. */
const NOT_FAILURES = new Set<string>(['host.shutting-down', 'device.access-changed', 'pair.expired', 'pair.used', 'pair.unknown', 'pair.declined', 'pair.rate-limited']);

/** The `connection_failures_total` reason of a close the host makes; undefined when it is no failure. */
function failureReason(info: CloseInfo): string | undefined {
  if (info.code === 1011) return 'internal.error';
  const code = closeErrorCode(info.reason);
  if (code === undefined) return info.code === 1000 || info.code === 1001 ? undefined : `close.${info.code}`;
  return NOT_FAILURES.has(code) ? undefined : code;
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

export function createConnection(peer: Peer, ctx: ChannelContext): Connection {
  const { log, metrics } = ctx;
  metrics.inc('connections_opened_total');
  let phase: Phase = 'hello';
  let transport: Transport | undefined;
  let pairing: Pairing | undefined;
  let approvalId: string | undefined;
  let deviceId: string | undefined;

  const subscriber: Subscriber = {
    get deviceId() {
      return deviceId ?? '';
    },
    deliver: (bytes) => sendBytes(bytes),
    close: (info) => close(info),
    accepts: (event) => accepts(event),
  };

  /** Whether the device may receive `event`, by its access now; a removed device gets nothing. */
  function accepts(event: EventView): boolean {
    const device = deviceId === undefined ? undefined : ctx.devices.get(deviceId);
    return device !== undefined && mayReceive(event, device, ctx.gate);
  }

  function sendBytes(bytes: Uint8Array): void {
    if (phase === 'closed' || !transport) return;
    for (const frame of transport.seal(bytes)) peer.send(frame);
  }

  function send(message: HostMessage): void {
    let bytes = encodeMessage(message);
    if (bytes.length > DEFAULT_MAX_MESSAGE && message.t === 'result') {
      bytes = encodeMessage({ t: 'result', id: message.id, ok: false, error: { code: 'frame.size', message: 'the answer is larger than the 4 MiB a message may carry' } });
    }
    if (bytes.length > DEFAULT_MAX_MESSAGE) {
      log.warn('dropped a message larger than 4 MiB', { type: message.t, bytes: bytes.length });
      return;
    }
    sendBytes(bytes);
  }

  const answer = (id: string, data: unknown) => send({ t: 'result', id, ok: true, data: data ?? {} });
  const refuse = (id: string, code: ErrorCode, message: string, expiry?: RelayError['expiry']) =>
    send({ t: 'result', id, ok: false, error: { code, message, ...(expiry ? { expiry } : {}) } });

  function close(info: CloseInfo): void {
    if (phase === 'closed') return;
    const reason = failureReason(info);
    if (reason !== undefined) metrics.inc('connection_failures_total', { reason });
    cleanUp();
    peer.close(info.code, info.reason);
  }

  const closeWith = (code: CloseErrorCode, text?: string) => close(closeFor(code, text));

  function cleanUp(): void {
    const was = phase;
    phase = 'closed';
    transport?.close();
    ctx.hub.remove(subscriber);
    if (pairing) wipe(pairing.publicKey);
    // Left before proving it knew the secret: most likely a wrong secret (it could not read msg2).
    if (was === 'confirm') ctx.offers.record('handshake-failed');
    if (approvalId !== undefined) {
      ctx.offers.record('abandoned');
      ctx.approvals.cancel(approvalId);
      approvalId = undefined;
    }
  }

  function receive(data: Uint8Array, isBinary: boolean): void {
    if (phase === 'closed') return;
    if (!isBinary) return closeWith('protocol.invalid', 'text messages are not part of this protocol');
    if (phase === 'hello') return onHello(data);
    let plaintext: Uint8Array | null;
    try {
      plaintext = transport!.open(data);
    } catch (err) {
      const code = err instanceof ChannelError ? FRAME_FAILURES[err.code] : 'protocol.invalid';
      log.warn('closing a connection: bad frame', { remoteAddress: peer.remoteAddress, device: deviceId, err });
      return closeWith(code, err instanceof Error ? err.message : undefined);
    }
    if (plaintext !== null) onMessage(plaintext);
  }

  function onHello(data: Uint8Array): void {
    const mode = data[0];
    const msg1 = data.subarray(1);
    if (mode === MODE.hostKey) {
      if (data.length !== 1) return closeWith('protocol.invalid', 'a host key request is the single byte 0x03');
      peer.send(ctx.identity.publicKey.slice());
      phase = 'closed';
      return peer.close(1000, 'host.key');
    }
    if (mode === MODE.pair) return pair(msg1);
    if (mode === MODE.reconnect) return reconnect(msg1);
    closeWith('protocol.invalid', `unknown mode byte ${mode}; expected 1 (pair), 2 (reconnect) or 3 (host key)`);
  }

  function handshakeFailed(err: unknown): void {
    log.warn('handshake failed', { remoteAddress: peer.remoteAddress, err });
    closeWith('handshake.failed', err instanceof ChannelError ? err.message : undefined);
  }

  /** Parses the hello; closes the connection and returns undefined when it is unusable. */
  function readHello(payload: Uint8Array): DeviceHello | undefined {
    try {
      const hello = parseDeviceHello(decodeJson(payload, 'hello'));
      if (hello.protocol === PROTOCOL_VERSION) return hello;
      closeWith('protocol.version', `the app speaks protocol ${hello.protocol}, this host ${PROTOCOL_VERSION}; update the older one`);
    } catch (err) {
      closeWith('protocol.invalid', err instanceof Error ? err.message : undefined);
    }
    return undefined;
  }

  function pair(msg1: Uint8Array): void {
    if (!ctx.offers.admit(peer.remoteAddress)) {
      ctx.offers.record('rate-limited');
      return closeWith('pair.rate-limited', CLAIM_TEXT['pair.rate-limited']);
    }
    // IKpsk2 mixes the psk in only at the end of message 2, so message 1 reads the same with any
    // psk: read it once to learn which offer it names, then again with that offer's psk.
    let payload: Uint8Array;
    try {
      payload = hostHandshake(MODE.pair, ctx.identity.keyPair, new Uint8Array(32)).readMessage(msg1);
    } catch (err) {
      ctx.offers.record('handshake-failed');
      return handshakeFailed(err);
    }
    const hello = readHello(payload);
    if (!hello) return ctx.offers.record('invalid');
    if (hello.offer === undefined) {
      ctx.offers.record('invalid');
      return closeWith('protocol.invalid', 'hello.offer: a pairing hello names its offer');
    }
    const claim = ctx.offers.claim(hello.offer);
    if (!claim.ok) {
      ctx.offers.record(CLAIM_OUTCOMES[claim.reason]);
      log.info('pairing refused', { remoteAddress: peer.remoteAddress, reason: claim.reason });
      return closeWith(claim.reason, CLAIM_TEXT[claim.reason]);
    }
    const hs = hostHandshake(MODE.pair, ctx.identity.keyPair, claim.psk);
    wipe(claim.psk);
    hs.readMessage(msg1);
    const msg2 = hs.writeMessage();
    const result = hs.result();
    peer.send(msg2);
    transport = createTransport(result);
    const code = verificationCode(result.handshakeHash);
    pairing = { hello, publicKey: result.remoteStatic!, code, expiresAt: claim.offer.expiresAt };
    phase = 'confirm';
    send({ t: 'pair.pending', code });
  }

  function askApproval(p: Pairing): void {
    phase = 'pending';
    const { id, decision } = ctx.approvals.request({
      name: p.hello.name, platform: p.hello.platform, code: p.code, remoteAddress: peer.remoteAddress, expiresAt: p.expiresAt,
    });
    approvalId = id;
    log.info('pairing waits for approval', { name: p.hello.name, platform: p.hello.platform, remoteAddress: peer.remoteAddress });
    decision
      .then((d) => {
        if (phase !== 'pending') return; // the device left meanwhile
        approvalId = undefined;
        if (d.approved) {
          const device = ctx.devices.add({ name: p.hello.name, platform: p.hello.platform, publicKey: p.publicKey, scopes: d.scopes });
          ctx.offers.record('approved');
          log.info('device paired', { device: device.id, name: device.name });
          send({ t: 'pair.approved', deviceId: device.id });
          open(device, undefined);
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

  function reconnect(msg1: Uint8Array): void {
    const hs = hostHandshake(MODE.reconnect, ctx.identity.keyPair);
    let payload: Uint8Array;
    try {
      payload = hs.readMessage(msg1);
    } catch (err) {
      return handshakeFailed(err);
    }
    const key = hs.remoteStatic!;
    const device = ctx.devices.byKey(key);
    if (!device) {
      const removed = ctx.devices.revokedKey(key) !== undefined;
      log.info('refused an unpaired key', { remoteAddress: peer.remoteAddress, removed });
      return removed
        ? closeWith('device.revoked', 'this device was removed from the host')
        : closeWith('device.unknown', 'this device is not paired with this host; pair it again');
    }
    const hello = readHello(payload);
    if (!hello) return;
    peer.send(hs.writeMessage());
    transport = createTransport(hs.result());
    open(device, hello);
  }

  function open(device: Device, hello: DeviceHello | undefined): void {
    phase = 'open';
    deviceId = device.id;
    ctx.devices.seen(device.id);
    if (hello) metrics.inc('reconnects_total');
    // All of this is synchronous, so no event can fall between the catch-up and the live stream.
    const resume: Resume = ctx.takeAccessChange(device.id)
      ? { resumed: false, reason: 'access', sessions: undefined }
      : ctx.hub.resume(hello?.after, hello?.epoch, accepts);
    const info = ctx.welcomeInfo();
    const seq = ctx.hub.seq;
    send({
      t: 'welcome', host: info.host, deviceId: device.id, scopes: device.scopes, workspaces: ctx.gate.allowed(device),
      runtime: info.runtime, protocol: PROTOCOL_VERSION, epoch: ctx.hub.epoch, resumed: resume.resumed, seq,
    });
    if (resume.resumed) {
      for (const bytes of resume.replay) sendBytes(bytes);
    } else {
      if (resume.reason === 'gap' || resume.reason === 'restart') metrics.inc('resume_gaps_total', { reason: resume.reason });
      send({
        t: 'resync', reason: resume.reason, seq,
        ...(resume.sessions ? { sessions: resume.sessions } : {}),
        permissions: ctx.pendingPermissions().filter((p) => accepts(p)),
      });
    }
    ctx.hub.add(subscriber);
  }

  function onMessage(plaintext: Uint8Array): void {
    let request: Request;
    try {
      request = parseRequest(decodeJson(plaintext, 'request'));
    } catch (err) {
      const id = requestIdOf(plaintext);
      const detail = err instanceof Error ? err.message : String(err);
      return id === undefined ? closeWith('protocol.invalid', detail) : refuse(id, 'protocol.invalid', detail);
    }
    if (phase === 'confirm') askApproval(pairing!);
    if (request.t === 'ping') return answer(request.id, { at: request.at });
    if (phase !== 'open') return refuse(request.id, 'protocol.invalid', 'not approved yet: only ping is allowed until the host approves this device');
    const device = ctx.devices.get(deviceId!);
    if (!device) return closeWith('device.revoked', 'this device was removed from the host');
    const scope = REQUEST_SCOPE[request.t];
    if (scope !== null && !device.scopes.includes(scope)) {
      return refuse(request.id, 'scope.denied', `this device lacks the "${scope}" scope that ${request.t} needs`);
    }
    const { id } = request;
    ctx.router.handle(request, device).then(
      (data) => answer(id, data),
      (err: unknown) => {
        if (err instanceof RelayError) return refuse(id, err.code, err.message, err.expiry);
        log.error('request failed', { type: request.t, err });
        refuse(id, 'runtime.error', err instanceof Error ? err.message : String(err));
      },
    );
  }

  return {
    receive,
    closed: (code) => {
      if (phase === 'closed') return;
      // Left before its first frame: it could not read message 2 (see cleanUp).
      if (phase === 'confirm') metrics.inc('connection_failures_total', { reason: 'handshake.failed' });
      else if (code === ABNORMAL_CLOSURE) metrics.inc('connection_failures_total', { reason: 'connection.lost' });
      cleanUp();
    },
    close,
    get phase() {
      return phase;
    },
  };
}

/** The id of a request that failed validation, so the refusal can name it. */
function requestIdOf(plaintext: Uint8Array): string | undefined {
  try {
    const v = decodeJson(plaintext, 'request');
    return isObj(v) && typeof v.id === 'string' && v.id.length > 0 && v.id.length <= 128 ? v.id : undefined;
  } catch (err) {
    if (err instanceof ProtocolError) return undefined;
    throw err;
  }
}
