/**
 * 2. Fan-out: one stream of events to 1, 10, 100 and 500 paired devices, for the relay on
 * uWebSockets.js and the same relay on `ws`. Both hosts run at once, each in its own process,
 * and take turns row by row so that both see the same machine. Devices are real clients in
 * this process (IK handshake, Noise frames, decryption, validation).
 *
 * Per row: a paced phase (latency: publish time in the host → decrypted event here, clocks
 * aligned by an IPC round trip) and a burst phase (events/s delivered, host CPU per delivery).
 * And the slow-consumer check on the uWS host: one device that never reads next to five that do.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SocketLayer } from '../host/compose.ts';
import { connectDevice, inPool, now, type BenchClient } from '../lib/clients.ts';
import { until, type Measurement } from '../lib/context.ts';
import { prepareHostData, type BenchDevice } from '../lib/fleet.ts';
import { startHostProcess, type HostProcess } from '../lib/host-process.ts';
import { profileTable, startProfiler, summarizeProfile } from '../lib/profile-summary.ts';
import { atLeast, atMost, fmt, mb, section } from '../lib/report.ts';
import { summarize, type Summary } from '../lib/stats.ts';
import type { RelayRuntimeEvent } from '../../shared/protocol/runtime-events.ts';

const COUNTS = [1, 10, 100, 500];
const LAYERS: SocketLayer[] = ['uws', 'ws'];
/** Text of each synthetic delta: the encrypted frame is ~230 bytes, like a streamed text delta. */
const EVENT_BYTES = 40;
/** The paced phase offers this many deliveries a second (at most MAX_RATE events a second)... */
const PACED_DELIVERIES = 5000;
const MAX_RATE = 200;
const PACED_SECONDS = 2;
/** ...and the burst this many deliveries in all. */
const BURST_DELIVERIES = 30_000;
/** Events the burst publishes per event-loop turn: each reaches a device as one frame (docs/protocol.md, "Batched frames"). */
const burstPerTurn = (devices: number) => Math.max(1, Math.floor(2000 / devices));
/** Each row runs twice per host, in the order uWS ws ws uWS; the better figure of the two counts. */
const REPEATS = 2;
/**
 * Slow-consumer check, on the uWS host: a few readers and 16 KiB events (tool output), enough
 * bytes to fill a non-reader's socket buffers and the host's queue for it (8 MiB) within the
 * phase; run without, with, with, without the non-reader, the better of each pair counting.
 */
const SLOW = { readers: 5, events: 1000, perSecond: 150, bytes: 16 * 1024 };
const PHASE_TIMEOUT_MS = 60_000;
/** Files in this process's profile are named from here. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Phase {
  /** Events each reading device should get. */
  events: number;
  delivered: number;
  received: Map<BenchClient, number>;
  latencies?: number[];
  lastAt: number;
}

interface Side {
  layer: SocketLayer;
  host: HostProcess;
  hostKey: Uint8Array;
  /** Host clock minus ours. */
  offset: number;
  clients: BenchClient[];
  phase?: Phase;
  /** Reading devices whose connection ended without us closing it (the host found them too slow). */
  dropped: Set<BenchClient>;
}

export interface FanOutRow {
  clients: number;
  layer: SocketLayer;
  pacedPerSecond: number;
  latencyMs: Summary;
  eventsPerSecond: number;
  hostCpuUsPerDelivery: number;
  hostCpuPercent: number;
  hostRssBytes: number;
}

export interface SlowCheck {
  layer: SocketLayer;
  withoutMs: Summary;
  withMs: Summary;
  /** Whether the host had closed the non-reading device by the end. */
  slowClosed: boolean;
}

export const fanOut: Measurement = {
  id: 'fan-out',
  title: '2. Fan-out: one event stream to N paired devices, uWebSockets.js host vs the same relay on ws',
  budgetMs: 240_000,
  async run(ctx) {
    const s = section(this.id, this.title);
    const devices = ctx.devices;
    const sides: Side[] = [];
    for (const layer of LAYERS) {
      const data = prepareHostData(devices);
      ctx.defer(data.dispose);
      const host = await startHostProcess({ mode: 'compose', socket: layer, dataDir: data.dataDir }, { cpuProfDir: ctx.cpuProfDir });
      ctx.defer(() => host.stop());
      const side: Side = { layer, host, hostKey: data.hostKey, offset: await host.clockOffset(), clients: [], dropped: new Set() };
      ctx.defer(() => side.clients.forEach((c) => void c.close()));
      sides.push(side);
    }

    const connectUpTo = async (side: Side, n: number) => {
      const from = side.clients.length;
      const added = await inPool(devices.slice(from, n), 16, async (device) => {
        let self: BenchClient | undefined;
        const client = await connectDevice(side.host.url, side.hostKey, device, { onEvent: (_seq, event) => deliver(side, self!, event) });
        self = client;
        let closedByUs = false;
        const close = client.close;
        client.close = () => ((closedByUs = true), close());
        client.channel.closed.then(() => void (closedByUs || side.dropped.add(client)));
        return client;
      });
      side.clients.push(...added);
    };

    const rows: FanOutRow[] = [];
    const slow: SlowCheck[] = [];
    const abba = [...sides, ...[...sides].reverse()];
    for (const n of [...new Set([...COUNTS, SLOW.readers])].sort((a, b) => a - b)) {
      ctx.progress(`fan-out: ${n} devices`);
      for (const side of sides) await connectUpTo(side, n);
      if (n === SLOW.readers) slow.push(await slowConsumer(sides[0]!, devices.at(-1)!));
      if (!COUNTS.includes(n)) continue;
      const runs = new Map<Side, FanOutRow[]>(sides.map((x) => [x, []]));
      for (let r = 0; r < REPEATS; r += 2) for (const side of abba) runs.get(side)!.push(await row(side, n));
      rows.push(...sides.map((x) => bestRow(runs.get(x)!)));
    }

    const most = Math.max(...COUNTS);
    const costs = await sides[0]!.host.call({ cmd: 'costs', spec: { devices: most, perTurn: burstPerTurn(most), payloadBytes: EVENT_BYTES } });
    // One burst more, profiled (the sampling costs time, so the rows above come from bursts without it):
    // the host process and this one, where the devices decrypt.
    ctx.progress(`fan-out: a ${most}-device burst again, the host and the devices profiled`);
    const uws = sides[0]!;
    const unprofiled = rows.find((r) => r.clients === most && r.layer === 'uws')!;
    await uws.host.call({ cmd: 'profile-start' });
    const stopDevices = await startProfiler();
    const before = await uws.host.call({ cmd: 'stats' });
    const burst = await burstTo(uws, most);
    const after = await uws.host.call({ cmd: 'stats' });
    const devicesProfile = await stopDevices();
    const profiledCpuUs = after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs;
    const profiles = {
      host: await uws.host.call({ cmd: 'profile-stop', ...(ctx.cpuProfDir ? { file: join(ctx.cpuProfDir, `fan-out-host-${most}-devices.cpuprofile`) } : {}) }),
      devices: summarizeProfile(devicesProfile, { root: REPO_ROOT }),
    };
    if (ctx.cpuProfDir) writeFileSync(join(ctx.cpuProfDir, `fan-out-devices-${most}.cpuprofile`), JSON.stringify(devicesProfile));
    s.data = { rows, slow, eventTextBytes: EVENT_BYTES, slowConsumer: SLOW, costs, profiles };
    const pair = (n: number) => LAYERS.map((l) => rows.find((r) => r.clients === n && r.layer === l)!);
    s.tables.push({
      title: 'Throughput (burst; host CPU is the host process only)',
      columns: ['devices', 'uWS events/s', 'ws events/s', 'uWS/ws', 'uWS CPU µs/delivery', 'ws CPU µs/delivery', 'ws/uWS CPU', 'uWS CPU %', 'ws CPU %'],
      rows: COUNTS.map((n) => {
        const [u, w] = pair(n);
        return [
          n,
          u!.eventsPerSecond,
          w!.eventsPerSecond,
          `${(u!.eventsPerSecond / w!.eventsPerSecond).toFixed(2)}×`,
          u!.hostCpuUsPerDelivery,
          w!.hostCpuUsPerDelivery,
          `${(w!.hostCpuUsPerDelivery / u!.hostCpuUsPerDelivery).toFixed(2)}×`,
          u!.hostCpuPercent,
          w!.hostCpuPercent,
        ];
      }),
    });
    s.tables.push({
      title: 'Latency (paced) and host memory',
      columns: ['devices', 'paced events/s', 'uWS median ms', 'uWS p99 ms', 'ws median ms', 'ws p99 ms', 'uWS/ws p99', 'uWS RSS MB', 'ws RSS MB'],
      rows: COUNTS.map((n) => {
        const [u, w] = pair(n);
        return [
          n,
          u!.pacedPerSecond,
          u!.latencyMs.median,
          u!.latencyMs.p99,
          w!.latencyMs.median,
          w!.latencyMs.p99,
          `${(u!.latencyMs.p99 / w!.latencyMs.p99).toFixed(2)}×`,
          mb(u!.hostRssBytes),
          mb(w!.hostRssBytes),
        ];
      }),
    });
    s.tables.push({
      title: `Slow consumer (uWS host): ${SLOW.readers} reading devices, ${SLOW.events} events of ${SLOW.bytes / 1024} KiB at ${SLOW.perSecond}/s, with and without one device that never reads`,
      columns: ['', 'p99 ms', 'median ms', 'non-reader closed by the host (4008)'],
      rows: slow.flatMap((c) => [
        ['without the non-reader', c.withoutMs.p99, c.withoutMs.median, ''],
        ['with the non-reader', c.withMs.p99, c.withMs.median, c.slowClosed ? 'yes, every time' : 'not always'],
        ['with ÷ without', `${(c.withMs.p99 / c.withoutMs.p99).toFixed(2)}×`, `${(c.withMs.median / c.withoutMs.median).toFixed(2)}×`, ''],
      ]),
    });
    const [u500, w500] = pair(500);
    const perDelivery = u500!.hostCpuUsPerDelivery;
    const rest = perDelivery - costs.encryptionUs - costs.framingUs;
    const share = (us: number) => `${Math.round((100 * us) / perDelivery)} %`;
    s.tables.push({
      title: `Host CPU per delivery at ${most} devices (uWS burst, ${burstPerTurn(most)} events per turn, so one frame per device carries ${burstPerTurn(most)} deliveries)`,
      columns: ['part', 'µs per delivery', 'share'],
      rows: [
        ['encryption (ChaCha20-Poly1305, one per frame)', costs.encryptionUs, share(costs.encryptionUs)],
        ['framing (event JSON once, batch join and frame header per device)', costs.framingUs, share(costs.framingUs)],
        ['write and the rest (uWS send and its syscall, send queue, hub, access checks)', rest, share(rest)],
        ['measured in all', perDelivery, '100 %'],
      ],
    });
    s.tables.push(profileTable(`The uWS host during one more ${most}-device burst`, profiles.host));
    s.notes.push(
      `Profiled burst: the host used ${fmt(profiledCpuUs / burst.delivered, 1)} µs of CPU per delivery by the OS's count (${fmt(unprofiled.hostCpuUsPerDelivery, 1)} µs unprofiled): the profiler's sampling and the slower devices beside it make that burst heavier; its shares, not its totals, are what it tells.`,
    );
    s.tables.push(profileTable(`The ${most} devices (this process) during that burst`, profiles.devices));
    s.targets.push(atMost(`fan-out: host CPU per delivery at ${most} devices (uWS)`, perDelivery, 10, 'µs'));
    s.targets.push(atLeast('fan-out: uWS/ws events/s at 500 devices', u500!.eventsPerSecond / w500!.eventsPerSecond, 1.5, '×'));
    const uSlow = slow.find((c) => c.layer === 'uws')!;
    s.targets.push({
      name: "fan-out: a non-reader does not raise the others' p99 (uWS)",
      goal: 'p99 with ≤ 1.5× without',
      figure: `${uSlow.withMs.p99.toFixed(2)} vs ${uSlow.withoutMs.p99.toFixed(2)} ms`,
      met: uSlow.withMs.p99 <= 1.5 * uSlow.withoutMs.p99,
      ratio: uSlow.withMs.p99 / uSlow.withoutMs.p99 / 1.5,
    });
    s.notes.push(
      "Events are synthetic: published inside the host process through the same hub the runtime's events take (the runtime is not what is measured here); every device decrypts and validates each one.",
      `Burst: ${BURST_DELIVERIES.toLocaleString('en-US')} deliveries per row (events × devices) as fast as the host publishes; events/s counts deliveries. Paced: ${PACED_DELIVERIES} deliveries/s, at most ${MAX_RATE} events/s, for ${PACED_SECONDS} s.`,
      'Encryption and framing are timed in the host process on the same messages (bench/host/child.ts `deliveryCosts`); the write and the rest is the measured CPU minus those two.',
      "Devices share one process and one core: where the host CPU is well below 100 %, the devices, not the host, set the events/s; CPU µs per delivery is the host's own cost.",
    );
    s.notes.push(
      `Each figure is the better of ${REPEATS} runs per host, taken in the order uWS, ws, ws, uWS, so that bursts of other work on the machine count against neither host.`,
    );
    if (sides.some((x) => x.dropped.size > 0))
      s.notes.push(`Reading devices the host closed as too slow during the run (this machine was overloaded): ${sides.map((x) => `${x.layer} ${x.dropped.size}`).join(', ')}.`);
    return s;
  },
};

function deliver(side: Side, client: BenchClient, event: RelayRuntimeEvent | undefined): void {
  const phase = side.phase;
  if (!phase || event?.type !== 'message.text.delta') return;
  const at = now();
  phase.delivered++;
  phase.lastAt = at;
  phase.received.set(client, (phase.received.get(client) ?? 0) + 1);
  // bench/host/child.ts stamps the publish time into the part id.
  phase.latencies?.push(at - (Number(event.partId.slice('prt_'.length)) - side.offset));
}

/** Publishes, then waits until every reading device still connected has every event. */
async function run(side: Side, events: number, latencies: boolean, publish: () => Promise<unknown>): Promise<Phase> {
  const phase: Phase = { events, delivered: 0, received: new Map(), lastAt: 0, ...(latencies ? { latencies: [] } : {}) };
  side.phase = phase;
  const readers = () => side.clients.filter((c) => !side.dropped.has(c));
  try {
    await publish();
    await until(
      `${events} events at each of ${side.clients.length} devices on ${side.layer} (${phase.delivered} delivered)`,
      () => readers().every((c) => (phase.received.get(c) ?? 0) >= events),
      PHASE_TIMEOUT_MS,
    );
  } finally {
    side.phase = undefined;
  }
  return phase;
}

const best = <T>(runs: T[], score: (r: T) => number): T => runs.reduce((a, b) => (score(b) < score(a) ? b : a));

function bestRow(runs: FanOutRow[]): FanOutRow {
  return {
    ...runs[0]!,
    latencyMs: best(runs, (r) => r.latencyMs.p99).latencyMs,
    eventsPerSecond: Math.max(...runs.map((r) => r.eventsPerSecond)),
    hostCpuUsPerDelivery: Math.min(...runs.map((r) => r.hostCpuUsPerDelivery)),
    hostCpuPercent: best(runs, (r) => -r.eventsPerSecond).hostCpuPercent,
    hostRssBytes: Math.max(...runs.map((r) => r.hostRssBytes)),
  };
}

/** As fast as the host publishes, `burstPerTurn(n)` events per turn, until every device has them. */
function burstTo(side: Side, n: number): Promise<Phase> {
  const events = Math.max(200, Math.min(20_000, Math.round(BURST_DELIVERIES / n)));
  return run(side, events, false, () => side.host.call({ cmd: 'publish', spec: { count: events, perSecond: 0, batch: burstPerTurn(n), payloadBytes: EVENT_BYTES } }));
}

async function row(side: Side, n: number): Promise<FanOutRow> {
  const rate = Math.min(MAX_RATE, Math.round(PACED_DELIVERIES / n));
  const count = rate * PACED_SECONDS;
  const paced = await run(side, count, true, () => side.host.call({ cmd: 'publish', spec: { count, perSecond: rate, payloadBytes: EVENT_BYTES } }));

  const before = await side.host.call({ cmd: 'stats' });
  const startedAt = now();
  const burst = await burstTo(side, n);
  const after = await side.host.call({ cmd: 'stats' });
  const seconds = (burst.lastAt - startedAt) / 1000;
  const cpuUs = after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs;
  return {
    clients: n,
    layer: side.layer,
    pacedPerSecond: rate,
    latencyMs: summarize(paced.latencies!),
    eventsPerSecond: burst.delivered / seconds,
    hostCpuUsPerDelivery: cpuUs / burst.delivered,
    hostCpuPercent: cpuUs / 1e4 / seconds,
    hostRssBytes: after.rss,
  };
}

async function slowConsumer(side: Side, slowDevice: BenchDevice): Promise<SlowCheck> {
  const spec = { count: SLOW.events, perSecond: SLOW.perSecond, payloadBytes: SLOW.bytes };
  const publish = () => side.host.call({ cmd: 'publish', spec });
  const without: Summary[] = [];
  const withSlow: Summary[] = [];
  let closedEveryTime = true;
  for (const nonReader of [false, true, true, false]) {
    if (!nonReader) {
      without.push(summarize((await run(side, SLOW.events, true, publish)).latencies!));
      continue;
    }
    const readers = side.clients.length - side.dropped.size;
    const slow = await connectDevice(side.host.url, side.hostKey, slowDevice);
    slow.socket.pause(); // reads nothing from now on: the host's buffers for it fill up
    try {
      withSlow.push(summarize((await run(side, SLOW.events, true, publish)).latencies!));
      const { connections } = await side.host.call({ cmd: 'stats' });
      closedEveryTime &&= connections === readers;
    } finally {
      slow.close();
    }
  }
  const lowest = (runs: Summary[]) => best(runs, (r) => r.p99);
  return { layer: side.layer, withoutMs: lowest(without), withMs: lowest(withSlow), slowClosed: closedEveryTime };
}
