/**
 * A throwaway Linux network namespace for tests that must send packets other than to 127.0.0.1
 * (multicast, a non-loopback peer address) without any of them reaching a real network: the
 * namespace has only its own loopback interface, with multicast turned on and an extra address.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** An address on the namespace's loopback interface that is not a loopback address. */
export const NETNS_LAN_ADDRESS = '10.99.0.1';

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces exist on Linux only';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'the ip command (iproute2) is missing: apt-get install iproute2';
  if (process.getuid?.() !== 0) return 'creating a network namespace needs root';
  return undefined;
}

export interface Netns {
  name: string;
  /** Runs `node --import tsx <script> ...args` inside the namespace; resolves with its stdout. */
  runNode(script: string, args: string[], timeoutMs: number): { status: number | null; stdout: string; stderr: string };
  /** Deletes the namespace; safe to call twice. */
  remove(): void;
}

/** Creates `owr-test-<pid>-<tag>` with lo up, multicast on lo, a multicast route and NETNS_LAN_ADDRESS. */
export function createNetns(tag: string): Netns {
  const name = `owr-test-${process.pid}-${tag}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  };
  ip('netns', 'add', name);
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('-n', name, 'link', 'set', 'lo', 'multicast', 'on');
    ip('-n', name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
    ip('-n', name, 'addr', 'add', `${NETNS_LAN_ADDRESS}/32`, 'dev', 'lo');
  } catch (err) {
    remove();
    throw err;
  }
  return {
    name,
    runNode(script, args, timeoutMs) {
      const r = spawnSync('ip', ['netns', 'exec', name, process.execPath, '--import', 'tsx', script, ...args], {
        encoding: 'utf8',
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      });
      return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    remove,
  };
}
