/**
 * Loads a uWebSockets.js native build that works on this machine, or fails with one message that says
 * which Node/libc combinations are supported and why each build was refused.
 *
 * Two packages ship v20 binaries: `@trufflesuite/uws-js-unofficial` (ABI 93/108/115: Node 16/18/20)
 * and `@btc-vision/uwebsockets.js` (ABI 115/127/137/141: Node 20/22/24/25, linked against glibc 2.38).
 * @module
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Uws = typeof import('@trufflesuite/uws-js-unofficial');
export type UwsBuild = '@trufflesuite/uws-js-unofficial' | '@btc-vision/uwebsockets.js';

export interface LoadedUws {
  uws: Uws;
  build: UwsBuild;
}

export interface UwsCandidate {
  build: UwsBuild;
  load: () => unknown;
}

const require = createRequire(import.meta.url);

/** The ABI of Node 20, the newest that the trufflesuite build has a binary for. */
const TRUFFLESUITE_MAX_ABI = 115;

/**
 * The trufflesuite wrapper silently swaps in a slow pure-JS fallback when its binary does not load,
 * so its binary is required directly: a missing binary must fail here, not degrade quietly.
 */
function loadTrufflesuite(): unknown {
  const root = dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
  return require(join(root, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`));
}

/** Both builds, the one most likely to load for this Node ABI first. */
export function defaultCandidates(abi: string = process.versions.modules): UwsCandidate[] {
  const trufflesuite: UwsCandidate = { build: '@trufflesuite/uws-js-unofficial', load: loadTrufflesuite };
  const btcVision: UwsCandidate = { build: '@btc-vision/uwebsockets.js', load: () => require('@btc-vision/uwebsockets.js') };
  return Number(abi) <= TRUFFLESUITE_MAX_ABI ? [trufflesuite, btcVision] : [btcVision, trufflesuite];
}

export function loadUws(candidates: UwsCandidate[] = defaultCandidates()): LoadedUws {
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const uws = candidate.load() as Uws;
      if (typeof uws?.App !== 'function') throw new Error('the module has no App() export');
      return { uws, build: candidate.build };
    } catch (err) {
      failures.push(`  - ${candidate.build}: ${err instanceof Error ? err.message.replace(/\s+/g, ' ').trim() : String(err)}`);
    }
  }
  throw new Error(
    `uWebSockets.js could not be loaded on this machine (${describeMachine()}).\n` +
      'Supported combinations:\n' +
      '  - Node 20 on glibc Linux or macOS, via @trufflesuite/uws-js-unofficial\n' +
      '  - Node 20, 22, 24 or 25 on Linux with glibc 2.38 or newer, macOS or Windows, via @btc-vision/uwebsockets.js ' +
      '(an optional dependency: run npm install to fetch it)\n' +
      'Switch to Node 20 (e.g. `nvm use 20`) or a newer Linux distribution.\n' +
      'Why each build was refused:\n' +
      failures.join('\n'),
  );
}

function describeMachine(): string {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const libc = header?.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'no glibc detected';
  return `Node ${process.version} (ABI ${process.versions.modules}), ${process.platform}-${process.arch}, ${libc}`;
}
