/**
 * What run.ts gives each measurement: the pre-made devices, a progress line, cleanups that run
 * however the measurement ends, and where to put CPU profiles when asked for them.
 * @module
 */
import type { BenchDevice } from './fleet.ts';
import type { Section } from './report.ts';

export interface BenchContext {
  /** 500 device key pairs, made once. */
  devices: BenchDevice[];
  progress(line: string): void;
  /** Runs `cleanup` when the measurement ends (last registered, first run), even after a failure. */
  defer(cleanup: () => unknown): void;
  /** Set by `--profile`: host children write `--cpu-prof` files here. */
  cpuProfDir?: string;
}

export interface Measurement {
  id: string;
  title: string;
  /** Longest it may take before run.ts gives up on it and moves on. */
  budgetMs: number;
  run(ctx: BenchContext): Promise<Section>;
}

/** Waits for `check` to hold, polling; throws `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
