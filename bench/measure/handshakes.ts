/**
 * 3. Handshakes on the relay (uWS, host in its own single-threaded process): pairings per second
 * (IKpsk2, approved at once by the bench, stored in devices.json), reconnects per second (IK of
 * paired devices), and a reconnect storm: 500 paired devices that were following a stream come
 * back at once after the host restarts, each caught up once it has its welcome, its resync (a
 * restart starts a new epoch) and the answer to the session reload the resync asks for.
 * @module
 */
import { connectDevice, inPool, now, pairDevice, type BenchClient } from '../lib/clients.ts';
import { until, type Measurement } from '../lib/context.ts';
import { prepareHostData } from '../lib/fleet.ts';
import { startHostProcess, type HostProcess } from '../lib/host-process.ts';
import type { HostStats } from '../host/protocol.ts';
import { atMost, fmt, section } from '../lib/report.ts';
import { cpuMark, cpuSince } from '../lib/cpu-share.ts';
import type { Resync } from '../../shared/protocol/messages.ts';

const PAIRS = 60;
const RECONNECTS = 300;
/** Devices connecting at once in the rate phases: enough to keep the host busy. */
const CONCURRENCY = 8;
const STREAM_EVENTS = 20;
const STORM_ATTEMPTS = 5;
/** The pairing rate limit is 5 a minute per address: every 4 pairings come from another loopback address. */
const PAIRS_PER_ADDRESS = 4;

const cpuMs = (a: HostStats, b: HostStats) => (b.cpuUserUs + b.cpuSystemUs - a.cpuUserUs - a.cpuSystemUs) / 1000;
const loopbackAddress = (i: number) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

export const handshakes: Measurement = {
  id: 'handshakes',
  title: '3. Handshakes: pairings and reconnects per second, and a 500-device reconnect storm after a host restart',
  budgetMs: 150_000,
  async run(ctx) {
    const s = section(this.id, this.title);
    const all = ctx.devices;
    const paired = all.slice(0, all.length - PAIRS);
    const newcomers = all.slice(all.length - PAIRS);
    const data = prepareHostData(paired);
    ctx.defer(data.dispose);
    const start = () => startHostProcess({ mode: 'compose', socket: 'uws', dataDir: data.dataDir, autoApprove: true }, { cpuProfDir: ctx.cpuProfDir });
    let host: HostProcess = await start();
    ctx.defer(() => host.stop());

    ctx.progress(`handshakes: ${PAIRS} pairings`);
    const { links } = await host.call({ cmd: 'offers', count: PAIRS });
    let before = await host.call({ cmd: 'stats' });
    let t0 = now();
    await inPool(newcomers, CONCURRENCY, async (device, i) => (await pairDevice(links[i]!, device, host.url, loopbackAddress(Math.floor(i / PAIRS_PER_ADDRESS)))).close());
    const pairSeconds = (now() - t0) / 1000;
    const pairCpuMs = cpuMs(before, await host.call({ cmd: 'stats' })) / PAIRS;

    ctx.progress(`handshakes: ${RECONNECTS} reconnects`);
    before = await host.call({ cmd: 'stats' });
    t0 = now();
    await inPool(
      Array.from({ length: RECONNECTS }, (_, i) => all[i % all.length]!),
      CONCURRENCY,
      async (device) => (await connectDevice(host.url, data.hostKey, device)).close(),
    );
    const reconnectSeconds = (now() - t0) / 1000;
    const reconnectCpuMs = cpuMs(before, await host.call({ cmd: 'stats' })) / RECONNECTS;

    ctx.progress(`handshakes: ${all.length} devices follow a stream, then the host restarts`);
    const seen = new Map<number, number>();
    const following: BenchClient[] = await inPool(all, 16, (device, i) => connectDevice(host.url, data.hostKey, device, { onEvent: (seq) => void seen.set(i, seq) }));
    ctx.defer(() => following.forEach((c) => void c.close()));
    const epoch = following[0]!.channel.welcome.epoch;
    await host.call({ cmd: 'publish', spec: { count: STREAM_EVENTS, perSecond: 0, batch: STREAM_EVENTS, payloadBytes: 40 } });
    await until('every device to have the stream', () => seen.size === all.length && [...seen.values()].every((v) => v >= STREAM_EVENTS), 60_000);

    const stoppedAt = now();
    await host.stop();
    host = await start();
    const restartMs = now() - stoppedAt;
    const stormStart = now();
    const cpuAtStart = cpuMark();
    before = await host.call({ cmd: 'stats' });
    const doneAt: number[] = [];
    let retries = 0;
    await Promise.all(
      all.map(async (device, i) => {
        // Like the app: a failed attempt (e.g. dropped by the host's idle timeout while it queued) is retried after a short, jittered pause.
        for (let attempt = 1; ; attempt++) {
          try {
            let resynced!: (r: Resync) => void;
            const resync = new Promise<Resync>((r) => (resynced = r));
            const client = await connectDevice(host.url, data.hostKey, device, { after: seen.get(i), epoch, onResync: resynced });
            following[i] = client;
            await resync;
            await client.channel.request({ t: 'sessions.list' });
            doneAt.push(now());
            return;
          } catch (err) {
            if (attempt === STORM_ATTEMPTS) throw err;
            retries++;
            await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
          }
        }
      }),
    );
    const stormMs = Math.max(...doneAt) - stormStart;
    const share = cpuSince(cpuAtStart);
    const stormCpuMs = cpuMs(before, await host.call({ cmd: 'stats' }));
    const devicesCpuMs = share.ownMs;
    const otherCpuMs = Math.max(0, share.machineBusyMs - stormCpuMs - devicesCpuMs);

    s.data = {
      pairs: PAIRS,
      pairSeconds,
      pairCpuMs,
      reconnects: RECONNECTS,
      reconnectSeconds,
      reconnectCpuMs,
      concurrency: CONCURRENCY,
      devices: all.length,
      restartMs,
      stormMs,
      stormCpuMs,
      stormRetries: retries,
      devicesCpuMs,
      otherCpuMs,
      cores: share.cores,
    };
    s.tables.push({
      title: 'Rates (host: one process, one thread)',
      columns: ['handshake', 'count', 'per second (wall)', 'host CPU ms each', 'per second per host core (CPU-bound)'],
      rows: [
        ['pair (IKpsk2 + approval + devices.json)', PAIRS, PAIRS / pairSeconds, pairCpuMs, 1000 / pairCpuMs],
        ['reconnect (IK + welcome)', RECONNECTS, RECONNECTS / reconnectSeconds, reconnectCpuMs, 1000 / reconnectCpuMs],
      ],
    });
    s.tables.push({
      title: `Reconnect storm: ${all.length} devices at once after a restart`,
      columns: [
        'restart (stop → listening) ms',
        'storm: all caught up ms',
        'host CPU ms',
        'host CPU ms per device',
        "devices' CPU ms",
        "other processes' CPU ms",
        'attempts retried',
      ],
      rows: [[restartMs, stormMs, stormCpuMs, stormCpuMs / all.length, devicesCpuMs, otherCpuMs, retries]],
    });
    s.targets.push(atMost(`storm: ${all.length} devices caught up`, stormMs, 2000, 'ms'));
    if (retries > 0) {
      s.notes.push(
        `${retries} storm attempts were dropped and retried. All ${all.length} devices share one process here, so their hellos (3 X25519 each) queue behind one another; a socket that stays silent longer than the relay's idle timeout (8 s) is dropped. Real phones compute their own.`,
      );
    }
    s.notes.push(
      `Rates use ${CONCURRENCY} handshakes in flight. The devices run in one process on the other core and do as much X25519 work per handshake as the host, so the wall rate is bounded by both; "per host core" is 1000 ÷ the host's CPU ms per handshake.`,
      'Caught up: welcome, resync (a restart begins a new epoch, so every device reloads) and the answer to its sessions.list. The storm starts when the restarted host listens.',
      `During the storm the ${share.cores} cores had ${fmt(share.cores * stormMs)} ms to give: the host used ${fmt(stormCpuMs)}, the ${all.length} simulated devices (this one process, real phones each use their own) ${fmt(devicesCpuMs)}, and other processes on the machine ${fmt(otherCpuMs)}. Where the devices or other processes use as much as the host, the storm figure measures them too.`,
      "The simulated devices use node:crypto like the host. Its cache of imported static keys holds 1,024, more than the devices that take turns here: with fewer, every device handshake would derive its public key again (about 0.4 ms of this process's CPU), which a phone with its one key never does.",
    );
    return s;
  },
};
