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
 * pairing phase (confirm, pending) is host/pairing/phase.ts. Every protocol violation closes the
 * socket with a 44xx code.
 *
 * What an open connection receives follows its device's access as it is at that moment (scopes
 * and workspaces, host/policy/event-access.ts); the relay closes the connection when that access
 * changes, so the app's next welcome lists it and its resync (`access`) reloads what it shows. Every connection, reconnect, resume that needed a
 * reload and failure is counted in the host's metrics (host/metrics/table.ts).
 * @module
 */
import { ChannelError, DEFAULT_MAX_MESSAGE, createTransport, type ChannelErrorCode, type Transport } from '../../shared/noise/transport.ts';
import { MODE, hostHandshake } from '../../shared/channel/handshake.ts';
import { closeErrorCode, closeFor, type CloseErrorCode, type CloseInfo } from '../../shared/channel/close.ts';
import { RelayError, type ErrorCode } from '../../shared/protocol/errors.ts';
import { ProtocolError, isObj } from '../../shared/protocol/guard.ts';
import {
  PROTOCOL_VERSION,
  REQUEST_SCOPE,
  decodeJson,
  encodeMessage,
  joinMessages,
  parseDeviceHello,
  parseRequest,
  type DeviceHello,
  type HostInfo,
  type HostMessage,
  type Request,
  type RuntimeStatus,
} from '../../shared/protocol/messages.ts';
import type { Logger } from '../log.ts';
import type { HostIdentity } from '../identity.ts';
import type { Approvals } from '../pairing/approvals.ts';
import type { OfferStore } from '../pairing/offers.ts';
import { createPairingPhase, type PairingPhase } from '../pairing/phase.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Device } from '../devices/store.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { mayReceive } from '../policy/event-access.ts';
import type { WorkspaceGate } from '../policy/workspaces.ts';
import type { PermissionAskedEvent } from '../../shared/protocol/runtime-events.ts';
import type { QuestionAskedEvent } from '../../shared/protocol/questions.ts';
import type { EventHub, EventView, Resume, Subscriber } from '../events/hub.ts';
import type { Router } from '../rpc/request.ts';
import { createEndOfTurn } from './end-of-turn.ts';
import { createDeltaCompactor } from '../../shared/protocol/compact-deltas.ts';

/** The socket as the protocol sees it; `host/server/socket.ts` adapts uWS to this. */
export interface Peer {
  send(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
  readonly remoteAddress: string;
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
  /** The agent's questions waiting for an answer now, likewise (absent: none are kept). */
  pendingQuestions?(): QuestionAskedEvent[];
  /** Whether the device's access changed since it last connected (and forgets that it did): it reloads everything. */
  takeAccessChange(deviceId: string): boolean;
  /** Applied to every message a device receives, just before encryption: removes the runtime's password (host/runtime/redact.ts). */
  redact?: (bytes: Uint8Array) => Uint8Array;
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

/** The one end-of-turn pass every connection of this process shares, so all devices' writes of a turn happen together. */
const endOfTurn = createEndOfTurn();

export function createConnection(peer: Peer, ctx: ChannelContext): Connection {
  const { log, metrics } = ctx;
  metrics.inc('connections_opened_total');
  let phase: Phase = 'hello';
  let transport: Transport | undefined;
  let pairing: PairingPhase | undefined;
  let deviceId: string | undefined;
  /** The hello said the device reads several messages per frame (docs/protocol.md, "Batched frames"). */
  let batching = false;
  /** Messages for this device waiting for the end of the turn, to go out as one frame; their joined size. */
  let outbox: Uint8Array[] = [];
  let outboxBytes = 0;
  /** Set when the hello said `compactDeltas` (docs/protocol.md, "Compact deltas"): this connection's ids of the previous delta. */
  let compact: ReturnType<typeof createDeltaCompactor> | undefined;

  const subscriber: Subscriber = {
    get deviceId() {
      return deviceId ?? '';
    },
    deliver: (bytes, live) => sendBytes(live && compact ? compact(live.seq, live.event, bytes) : bytes),
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
    const clean = ctx.redact ? ctx.redact(bytes) : bytes;
    if (!batching) {
      for (const frame of transport.seal(clean)) peer.send(frame);
      return;
    }
    // A batch stays within what one message may carry: the device refuses larger ones.
    if (outbox.length > 0 && outboxBytes + 1 + clean.length > DEFAULT_MAX_MESSAGE) flush();
    if (outbox.length === 0) endOfTurn(flushAtEndOfTurn);
    outboxBytes += (outbox.length > 0 ? 1 : 0) + clean.length;
    outbox.push(clean);
  }

  /** One connection's failure must not keep the other connections' messages of this turn back. */
  function flushAtEndOfTurn(): void {
    try {
      flush();
    } catch (err) {
      log.error('sending batched messages failed', { remoteAddress: peer.remoteAddress, device: deviceId, err });
      close({ code: 1011, reason: 'internal error; see the host log' });
    }
  }

  /** Sends what waits in the outbox as one message (fragmented only above a frame's 64 KiB). */
  function flush(): void {
    if (outbox.length === 0) return;
    const messages = outbox;
    outbox = [];
    outboxBytes = 0;
    if (phase === 'closed' || !transport) return;
    for (const frame of transport.seal(joinMessages(messages))) peer.send(frame);
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
    // What was said before the close (a refusal, the last events) still reaches the device.
    flush();
    const reason = failureReason(info);
    if (reason !== undefined) metrics.inc('connection_failures_total', { reason });
    cleanUp();
    peer.close(info.code, info.reason);
  }

  const closeWith = (code: CloseErrorCode, text?: string) => close(closeFor(code, text));

  function cleanUp(): void {
    const was = phase;
    phase = 'closed';
    outbox = [];
    outboxBytes = 0;
    transport?.close();
    ctx.hub.remove(subscriber);
    ctx.router.disconnected?.(subscriber);
    pairing?.end(was);
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
      batching = hello.batch === true;
      compact = hello.compactDeltas === true ? createDeltaCompactor() : undefined;
      return hello;
    } catch (err) {
      closeWith('protocol.invalid', err instanceof Error ? err.message : undefined);
    }
    return undefined;
  }

  /** Whether the hello speaks this host's protocol; closes the connection when not. */
  function speaksOurs(hello: DeviceHello): boolean {
    if (hello.protocol === PROTOCOL_VERSION) return true;
    closeWith('protocol.version', `the app speaks protocol ${hello.protocol}, this host ${PROTOCOL_VERSION}; update the older one`);
    return false;
  }

  function pair(msg1: Uint8Array): void {
    pairing = createPairingPhase(ctx, {
      remoteAddress: peer.remoteAddress,
      sendRaw: (bytes) => peer.send(bytes),
      secured: (t) => (transport = t),
      enter: (p) => (phase = p),
      send,
      closeWith,
      close,
      readHello,
      speaksOurs,
      handshakeFailed,
      approved: (device) => open(device, undefined),
    });
    pairing.start(msg1);
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
    if (!hello || !speaksOurs(hello)) return;
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
    const resume: Resume = ctx.takeAccessChange(device.id) ? { resumed: false, reason: 'access', sessions: undefined } : ctx.hub.resume(hello?.after, hello?.epoch, accepts);
    const info = ctx.welcomeInfo();
    const seq = ctx.hub.seq;
    send({
      t: 'welcome',
      host: info.host,
      deviceId: device.id,
      scopes: device.scopes,
      workspaces: ctx.gate.allowed(device),
      runtime: info.runtime,
      protocol: PROTOCOL_VERSION,
      epoch: ctx.hub.epoch,
      resumed: resume.resumed,
      seq,
    });
    if (resume.resumed) {
      for (const bytes of resume.replay) sendBytes(bytes);
    } else {
      if (resume.reason === 'gap' || resume.reason === 'restart') metrics.inc('resume_gaps_total', { reason: resume.reason });
      send({
        t: 'resync',
        reason: resume.reason,
        seq,
        ...(resume.sessions ? { sessions: resume.sessions } : {}),
        permissions: ctx.pendingPermissions().filter((p) => accepts(p)),
        questions: (ctx.pendingQuestions?.() ?? []).filter((q) => accepts(q)),
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
    if (phase === 'confirm') {
      // Only the ping the docs prescribe asks the person at the host; anything else is refused and the host keeps waiting for it.
      if (request.t !== 'ping') return refuse(request.id, 'protocol.invalid', 'the first message after a pairing handshake is a ping');
      pairing!.confirmed();
    }
    if (request.t === 'ping') return answer(request.id, { at: request.at });
    if (phase !== 'open') return refuse(request.id, 'protocol.invalid', 'not approved yet: only ping is allowed until the host approves this device');
    const device = ctx.devices.get(deviceId!);
    if (!device) return closeWith('device.revoked', 'this device was removed from the host');
    const scope = REQUEST_SCOPE[request.t];
    if (scope !== null && !device.scopes.includes(scope)) {
      return refuse(request.id, 'scope.denied', `this device lacks the "${scope}" scope that ${request.t} needs`);
    }
    const { id } = request;
    ctx.router.handle(request, device, subscriber).then(
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
