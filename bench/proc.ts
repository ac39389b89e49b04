/**
 * Another process's memory and CPU, read from Linux /proc: resident set (VmRSS) and its high-water
 * mark (VmHWM) from status, the main thread's time on CPU and time waiting for one (runnable, but
 * every CPU busy) from its schedstat (ns), and the whole process's user + system time from stat
 * (clock ticks). The bench measures tandem and the floor
 * this way, from outside, so nothing in them is instrumented.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface Memory {
  rssMb: number;
  /** Highest RSS the process image has had. */
  hwmMb: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Main thread (the event loop) since the process started: on CPU, and runnable but waiting for a CPU, ms. */
export function mainThreadSched(pid: number): { cpuMs: number; waitMs: number } {
  const [cpuNs, waitNs] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ');
  return { cpuMs: Number(cpuNs) / 1e6, waitMs: Number(waitNs) / 1e6 };
}

/** User + system time of every thread of the process since it started, ms (clock-tick resolution, 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** The Probe drive() reads the process under test through. */
export const probeOf = (pid: number) => ({ mainThread: () => mainThreadSched(pid), cpuMs: () => processCpuMs(pid) });
