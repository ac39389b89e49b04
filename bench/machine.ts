/** What the numbers were measured on. */
import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  nproc: number;
  cpu: string;
  memTotalGiB: number;
  node: string;
  platform: string;
  /** File system of the SQLite files (fsync cost depends on it). */
  dbFs: string;
  /** 1-minute load average when the bench started (other work on the machine skews every figure). */
  loadAvgAtStart: number;
}

export const loadAvg1 = () => Math.round(os.loadavg()[0]! * 100) / 100;

const FS_TYPES: Record<number, string> = { 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs' };

function lscpuModel(): string | null {
  try {
    const out = execFileSync('lscpu', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /^Model name:\s*(.+)$/m.exec(out)?.[1]?.trim() ?? null;
  } catch {
    return null;
  }
}

export function machine(dbDir: string): Machine {
  let dbFs = 'unknown';
  try {
    const t = statfsSync(dbDir).type;
    dbFs = FS_TYPES[t] ?? `0x${t.toString(16)}`;
  } catch {
    // keep unknown
  }
  return {
    nproc: os.availableParallelism(),
    cpu: lscpuModel() ?? os.cpus()[0]?.model ?? 'unknown',
    memTotalGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    dbFs,
    loadAvgAtStart: loadAvg1(),
  };
}
