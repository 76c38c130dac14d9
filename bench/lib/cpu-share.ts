/**
 * Who used the machine's cores over a stretch of wall time: this process (the simulated
 * devices), the host child (which reports its own CPU), and everything else. On a shared machine
 * other work takes cores from both, which stretches every wall-clock figure; this says by how much.
 * @module
 */
import { cpus } from 'node:os';

export interface CpuMark {
  atMs: number;
  /** Busy time summed over every core (os.cpus(), i.e. /proc/stat: 10 ms resolution). */
  machineBusyMs: number;
  ownCpu: NodeJS.CpuUsage;
}

export interface CpuShare {
  wallMs: number;
  cores: number;
  machineBusyMs: number;
  /** CPU of this process. */
  ownMs: number;
}

function machineBusyMs(): number {
  return cpus().reduce((sum, { times: t }) => sum + t.user + t.nice + t.sys + t.irq, 0);
}

export function cpuMark(): CpuMark {
  return { atMs: performance.now(), machineBusyMs: machineBusyMs(), ownCpu: process.cpuUsage() };
}

export function cpuSince(mark: CpuMark): CpuShare {
  const own = process.cpuUsage(mark.ownCpu);
  return {
    wallMs: performance.now() - mark.atMs,
    cores: cpus().length,
    machineBusyMs: machineBusyMs() - mark.machineBusyMs,
    ownMs: (own.user + own.system) / 1000,
  };
}
