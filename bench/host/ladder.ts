/**
 * What each part of the host adds to a process's memory: in a fresh Node (bundled and started by
 * bench/measure/host-footprint.ts), loads the parts one after another in the order given and
 * prints, as JSON on stdout, the RSS and process.memoryUsage() before the first and after each.
 * Each figure is taken after a garbage collection and a short pause, so what a part leaves behind
 * while loading is not counted: only what stays.
 * @module
 */
import { loadUws } from '../../host/uws/load.ts';

/** One part: Node's fetch (loaded on first use of the global), the uWS addon as the host loads it, or modules to import. */
export type LadderStep = { label: string; load: 'fetch' } | { label: string; load: 'uws' } | { label: string; load: 'import'; specifiers: string[] };

export interface LadderRung {
  label: string;
  rss: number;
  heapTotal: number;
  external: number;
}

const SETTLE_MS = 300;

async function load(step: LadderStep): Promise<void> {
  // Node defines fetch's classes as getters that load undici when first read (fetch itself waits
  // for its first call); a check the bundler cannot leave out.
  if (step.load === 'fetch') {
    if (typeof Request !== 'function') throw new Error('this Node has no fetch');
  } else if (step.load === 'uws') loadUws();
  else for (const specifier of step.specifiers) await import(specifier);
}

async function measure(label: string): Promise<LadderRung> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapTotal, external } = process.memoryUsage();
  return { label, rss, heapTotal, external };
}

const steps = JSON.parse(process.argv[2] ?? '[]') as LadderStep[];
const rungs = [await measure('start')];
for (const step of steps) {
  await load(step);
  rungs.push(await measure(step.label));
}
process.stdout.write(`${JSON.stringify(rungs)}\n`);
