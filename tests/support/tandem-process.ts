/** The real tandem process (`node --import tsx src/main.ts`), for tests that kill and restart it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const running = new Set<ChildProcess>();

export interface TandemProcess {
  child: ChildProcess;
  /** The exit code, or the signal's name when a signal ended it. */
  exited: Promise<number | string | null>;
  /** stdout and stderr so far. */
  output(): string;
}

export function startTandemProcess(env: NodeJS.ProcessEnv): TandemProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((r) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      r(code ?? signal);
    }),
  );
  return { child, exited, output: () => out };
}

/** kill -9 and wait for the exit. */
export async function killHard(p: TandemProcess): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

/** Kill whatever a test left running. */
export function killAllTandemProcesses(): void {
  for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
}
