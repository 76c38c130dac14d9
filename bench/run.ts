/**
 * `npm run bench`: every measurement of issue 8 in one run, side by side with its baseline, as a
 * table on stdout and the same figures in bench/results/<timestamp>.json.
 *
 *   npm run bench                         everything (about 9 minutes on 2 cores)
 *   npm run bench -- --only=fan-out,pwa   some measurements (ids below)
 *   npm run bench -- --profile            also write --cpu-prof profiles of the host processes
 *                                         (and of the page, for the browser measurements that take one)
 *
 * Everything listens on 127.0.0.1 and everything started is stopped, whatever happens.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Measurement } from './lib/context.ts';
import { makeDevices } from './lib/fleet.ts';
import { renderSection, renderTargets, section, type Section } from './lib/report.ts';
import { relayOverhead } from './measure/relay-overhead.ts';
import { fanOut } from './measure/fan-out.ts';
import { handshakes } from './measure/handshakes.ts';
import { browserReconnect } from './measure/browser-reconnect.ts';
import { pwa } from './measure/pwa.ts';
import { hostFootprint } from './measure/host-footprint.ts';
import { costs } from './measure/costs.ts';
import { history } from './measure/history.ts';
import { startup } from './measure/startup.ts';
import { longSession } from './measure/long-session.ts';
import { closingNote } from './lib/closing.ts';
import { nodeBackend } from '../host/crypto/node-backend.ts';
import { useNoiseBackend } from '../shared/noise/backend.ts';

const RESULTS = fileURLToPath(new URL('./results', import.meta.url));
/** The whole run must end within 15 minutes; leave room for cleanups and the report. */
const RUN_BUDGET_MS = 14 * 60_000;
const DEVICES = 500;

// The simulated phones share this one process, where real phones each do their own handshake
// work in parallel: give them the host's native crypto so that the host is what is measured.
useNoiseBackend(nodeBackend);

/** In the order they run: quiet measurements first, before anything has warmed up or grown. */
const MEASUREMENTS: Measurement[] = [hostFootprint, handshakes, fanOut, relayOverhead, history, startup, pwa, browserReconnect, costs, longSession];

function parseArgs(argv: string[]): { only?: Set<string>; profile: boolean } {
  let only: Set<string> | undefined;
  let profile = false;
  for (const arg of argv) {
    if (arg.startsWith('--only=')) only = new Set(arg.slice('--only='.length).split(',').filter(Boolean));
    else if (arg === '--profile') profile = true;
    else throw new RangeError(`unknown argument ${arg}; use --only=${MEASUREMENTS.map((m) => m.id).join(',')} and/or --profile`);
  }
  const unknown = [...(only ?? [])].filter((id) => !MEASUREMENTS.some((m) => m.id === id));
  if (unknown.length) throw new RangeError(`--only: no measurement named ${unknown.join(', ')}; choose from ${MEASUREMENTS.map((m) => m.id).join(', ')}`);
  return { only, profile };
}

function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

const progress = (line: string) => process.stderr.write(`  … ${line}\n`);

async function runOne(m: Measurement, base: Omit<BenchContext, 'defer'>, remainingMs: number): Promise<Section> {
  const cleanups: Array<() => unknown> = [];
  const ctx: BenchContext = { ...base, defer: (c) => void cleanups.push(c) };
  const budget = Math.min(m.budgetMs, remainingMs);
  const started = performance.now();
  let result: Section;
  let timer: NodeJS.Timeout | undefined;
  const running = m.run(ctx);
  running.catch(() => {}); // after a timeout it may still fail; it was reported already
  try {
    result = await Promise.race([
      running,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`gave up after ${Math.round(budget / 1000)} s`)), budget))),
    ]);
  } catch (err) {
    result = section(m.id, m.title);
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
  for (const cleanup of cleanups.reverse()) {
    try {
      await Promise.race([cleanup(), new Promise((r) => setTimeout(r, 30_000))]);
    } catch (err) {
      progress(`cleanup after ${m.id} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const runStart = performance.now();
  const info = machine();
  const profileDir = args.profile ? join(RESULTS, `profiles-${stamp(startedAt)}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  process.stdout.write(`OpenWork Relay benchmarks — ${startedAt.toISOString()}\n`);
  process.stdout.write(
    `${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, Node ${info.node}, load average ${info.loadAverage.join(' ')} (other work on the machine shows up as noise)\n`,
  );

  progress(`making ${DEVICES} device keys`);
  const base = { devices: makeDevices(DEVICES), progress, ...(profileDir ? { cpuProfDir: profileDir } : {}) };
  const sections: Section[] = [];
  for (const m of MEASUREMENTS) {
    if (args.only && !args.only.has(m.id)) continue;
    const remaining = RUN_BUDGET_MS - (performance.now() - runStart);
    if (remaining < 15_000) {
      const skipped = section(m.id, m.title);
      skipped.error = 'skipped: the 15-minute budget is used up';
      sections.push(skipped);
      continue;
    }
    progress(`${m.title}`);
    const result = await runOne(m, base, remaining);
    sections.push(result);
    process.stdout.write(`${renderSection(result)}\n`);
  }

  process.stdout.write(`${renderTargets(sections)}\n`);
  const note = closingNote(sections);
  process.stdout.write(`\n${note.join('\n')}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${stamp(startedAt)}.json`);
  const totalSeconds = (performance.now() - runStart) / 1000;
  writeFileSync(
    file,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), totalSeconds, machine: { ...info, loadAverageAtEnd: loadavg() }, sections, closingNote: note }, null, 2)}\n`,
  );
  process.stdout.write(`\nTotal ${Math.round(totalSeconds)} s. Figures written to ${file}${profileDir ? `; CPU profiles in ${profileDir}` : ''}\n`);
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

process.on('unhandledRejection', (err) => progress(`unhandled: ${err instanceof Error ? err.message : String(err)}`));
main().then(
  // Sockets of closed clients may linger a moment; everything of ours is stopped, so do not wait.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
