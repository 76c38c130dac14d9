/**
 * The last resort after a host process was killed: the OpenCode runtime it started runs in a
 * process group of its own and would outlive it. The runtime's environment names the sandbox
 * the bench made for it, so its processes can be found, and only those are ended.
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';

export function killProcessesMarked(marker: string): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) process.kill(Number(name), 'SIGKILL');
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
}
