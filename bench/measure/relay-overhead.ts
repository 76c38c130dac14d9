/**
 * 1. Relay overhead on a live task: the real host (its own process) with the real OpenCode
 * runtime, whose model streams a few thousand stamped text deltas. In this process, with one
 * clock, three times are taken per delta: when the model wrote it, when a plain reader of the
 * runtime's `/event` stream got it (the floor), and when a paired device got it through the
 * host, decrypted. Once with that device alone, once with 99 more devices attached.
 * @module
 */
import { join } from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { authHeaders } from '../../host/runtime/health.ts';
import { connectDevice, countOnly, inPool, now, type BenchClient } from '../lib/clients.ts';
import { until, type Measurement } from '../lib/context.ts';
import { prepareHostData, type BenchDevice } from '../lib/fleet.ts';
import { startHostProcess } from '../lib/host-process.ts';
import { profileTable } from '../lib/profile-summary.ts';
import { atMost, section, type Cell } from '../lib/report.ts';
import { summarize, type Summary } from '../lib/stats.ts';
import { readRuntimeEvents } from '../live/event-stream.ts';
import { liveSandbox } from '../live/sandbox.ts';
import { readStamps, stampDirective } from '../live/stamping-model.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';

const DELTAS = 2000;
/** 125 deltas a second: a fast model; faster than a real one streams. */
const GAP_MS = 8;
const CROWD = 100;
const TASK_TIMEOUT_MS = 120_000;

interface Run {
  devices: number;
  deltas: number;
  directMs: Summary;
  relayMs: Summary;
  /** Per delta: arrival through the host minus arrival at the direct reader. */
  addedMs: Summary;
  /** Deltas that reached both readers (all of them, unless the runtime merged some). */
  matched: number;
  /** From the prompt to the session's idle: bytes of the runtime's /event stream, and what the measured device received over its WebSocket. */
  runtimeStreamBytes: number;
  deviceBytes: number;
}

/** Arrival times by delta number, for one reader. */
type Arrivals = Map<number, number>;

export const relayOverhead: Measurement = {
  id: 'relay',
  title: '1. Relay overhead on a live task: through the host vs reading the runtime directly',
  budgetMs: 240_000,
  async run(ctx) {
    const s = section(this.id, this.title);
    const { sandbox } = await liveSandbox(ctx);

    const devices = ctx.devices.slice(0, CROWD);
    const data = prepareHostData(devices);
    ctx.defer(data.dispose);
    ctx.progress('relay: starting the host and its OpenCode runtime');
    const host = await startHostProcess({ mode: 'real', dataDir: data.dataDir, workspace: sandbox.workspace, runtimeEnv: sandbox.env }, { cpuProfDir: ctx.cpuProfDir });
    ctx.defer(() => host.stop());
    const target = await host.call({ cmd: 'runtime' });

    const stamps: Arrivals = new Map();
    const direct: Arrivals = new Map();
    const relayed: Arrivals = new Map();
    const note = (into: Arrivals, text: string) => {
      const at = now();
      for (const st of readStamps(text)) {
        stamps.set(st.n, st.at);
        into.set(st.n, at);
      }
    };
    /** Sessions each reader saw go idle: the task's last event, where byte counting stops. */
    const idleDirect = new Set<string>();
    const idleRelayed = new Set<string>();
    const reader = readRuntimeEvents(target.url, target.password, sandbox.workspace, (e) => {
      if (e.type === 'message.part.delta' && e.properties.field === 'text' && typeof e.properties.delta === 'string') note(direct, e.properties.delta);
      if (e.type === 'session.idle' && typeof e.properties.sessionID === 'string') idleDirect.add(e.properties.sessionID);
    });
    ctx.defer(() => reader.close());
    await reader.connected;

    const onEvent = (_seq: number, e: RelayRuntimeEvent | undefined) => {
      if (e?.type === 'message.text.delta') note(relayed, e.delta);
      if (e?.type === 'session.idle') idleRelayed.add(e.sessionId);
    };
    let deviceBytes = 0;
    const clients: BenchClient[] = [];
    ctx.defer(() => clients.forEach((c) => void c.close()));
    const probe = async (device: BenchDevice) => {
      const client = await connectDevice(host.url, data.hostKey, device, { onEvent });
      // Every WebSocket message the device gets, as its radio would: encrypted frames, tags and all.
      client.socket.on('message', (frame: ArrayBuffer) => void (deviceBytes += frame.byteLength));
      return client;
    };

    const sdk = createOpencodeClient({ baseUrl: target.url, headers: authHeaders(target.password), throwOnError: true, directory: sandbox.workspace });
    const task = async (devicesAttached: number): Promise<Run> => {
      for (const m of [stamps, direct, relayed]) m.clear();
      const session = await sdk.session.create({ title: 'bench' });
      const sessionId = session.data!.id;
      const streamFrom = reader.bytes();
      const deviceFrom = deviceBytes;
      await sdk.session.promptAsync({ sessionID: sessionId, parts: [{ type: 'text', text: stampDirective(DELTAS, GAP_MS) }] });
      await until(`${DELTAS} deltas at both readers (direct ${direct.size}, relay ${relayed.size})`, () => direct.size >= DELTAS && relayed.size >= DELTAS, TASK_TIMEOUT_MS, 20);
      await until('the session to go idle at both readers', () => idleDirect.has(sessionId) && idleRelayed.has(sessionId), TASK_TIMEOUT_MS, 20);
      const both = [...direct.keys()].filter((n) => relayed.has(n));
      return {
        devices: devicesAttached,
        deltas: stamps.size,
        directMs: summarize(both.map((n) => direct.get(n)! - stamps.get(n)!)),
        relayMs: summarize(both.map((n) => relayed.get(n)! - stamps.get(n)!)),
        addedMs: summarize(both.map((n) => relayed.get(n)! - direct.get(n)!)),
        matched: both.length,
        runtimeStreamBytes: reader.bytes() - streamFrom,
        deviceBytes: deviceBytes - deviceFrom,
      };
    };

    ctx.progress(`relay: ${DELTAS} deltas, one device`);
    clients.push(await probe(devices[0]!));
    const alone = await task(1);

    ctx.progress(`relay: ${DELTAS} deltas, ${CROWD} devices`);
    // The measured device connects last, so the host encrypts for the 99 others before it.
    clients.pop()!.close();
    const crowd = await inPool(devices.slice(1), 16, (d) => connectDevice(host.url, data.hostKey, d));
    clients.push(...crowd);
    crowd.forEach((c) => void countOnly(c));
    clients.push(await probe(devices[0]!));
    const crowded = await task(CROWD);

    // Once more, profiled: the sampling costs the host time, so the figures above come from runs without it.
    ctx.progress(`relay: ${DELTAS} deltas, ${CROWD} devices, the host's CPU profiled`);
    await host.call({ cmd: 'profile-start' });
    await task(CROWD);
    const profile = await host.call({ cmd: 'profile-stop', ...(ctx.cpuProfDir ? { file: join(ctx.cpuProfDir, 'relay-host-100-devices.cpuprofile') } : {}) });

    const runs = [alone, crowded];
    s.data = { deltas: DELTAS, gapMs: GAP_MS, runs, profile };
    const ms = (x: Summary): Cell[] => [x.median, x.p99];
    s.tables.push({
      title: `${DELTAS} text deltas, one every ${GAP_MS} ms; latency from the model writing a delta to a reader having it (ms)`,
      columns: ['devices', 'direct median', 'direct p99', 'relay median', 'relay p99', 'relay/direct median', 'relay/direct p99', 'added median', 'added p99'],
      rows: runs.map((r) => [
        r.devices,
        ...ms(r.directMs),
        ...ms(r.relayMs),
        `${(r.relayMs.median / r.directMs.median).toFixed(2)}×`,
        `${(r.relayMs.p99 / r.directMs.p99).toFixed(2)}×`,
        ...ms(r.addedMs),
      ]),
    });
    s.tables.push({
      title: "Bytes for the same task, from the prompt to the session's idle: the runtime's own /event stream vs what the device received over its WebSocket",
      columns: ['devices', 'runtime /event KB', 'device WebSocket KB', 'device/runtime'],
      rows: runs.map((r) => [r.devices, r.runtimeStreamBytes / 1024, r.deviceBytes / 1024, `${(r.deviceBytes / r.runtimeStreamBytes).toFixed(2)}×`]),
    });
    s.tables.push(profileTable(`The host during the same task again with ${CROWD} devices`, profile));
    s.targets.push(atMost('relay/direct latency at the median (1 device)', alone.relayMs.median / alone.directMs.median, 1.1, '×'));
    s.targets.push(atMost(`relay: added latency at p99 (${CROWD} devices)`, crowded.addedMs.p99, 1, 'ms', true));
    s.targets.push(atMost(`relay/direct latency at p99 (${CROWD} devices)`, crowded.relayMs.p99 / crowded.directMs.p99, 1.2, '×'));
    s.targets.push(atMost("bytes: device's WebSocket / runtime's /event stream for one task", alone.deviceBytes / alone.runtimeStreamBytes, 0.5, '×'));
    s.notes.push(
      '"direct": a plain reader of the runtime\'s /event stream in this process. "relay": a paired device in this process, through the host process (runtime event → bridge → hub → Noise → uWS → device → decrypt and validate). "added": per delta, relay arrival minus direct arrival, same clock.',
      "Bytes: the direct reader's count is the /event response body (server-sent events text, no HTTP framing); the device's is the payload of every WebSocket message it received (encrypted frames with their tags), with the welcome and pings before the prompt left out.",
      `With ${CROWD} devices the measured device connected last (the host encrypts for the ${CROWD - 1} others first); the others read every frame but only count them, so that their decryption does not compete with the measurement on two cores.`,
    );
    if (runs.some((r) => r.matched < DELTAS))
      s.notes.push(`Some deltas were merged by the runtime before they reached either reader: ${runs.map((r) => `${r.matched} of ${DELTAS}`).join(', ')} matched one to one.`);
    return s;
  },
};
