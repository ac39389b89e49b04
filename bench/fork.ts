/** Bench modules as child processes: forked with the bench's own loader flags (tsx), never its profiler flags. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const HERE = import.meta.dirname;

export function forkBench(file: string, args: string[] = []): ChildProcess {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof') && !a.startsWith('--heap-prof'));
  return fork(join(HERE, file), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Run a bench module that sends one message and exits; that message. */
export function runChild<T>(file: string, args: string[]): Promise<T> {
  const c = forkBench(file, args);
  return new Promise<T>((res, rej) => {
    let got: T | null = null;
    c.on('message', (m) => (got = m as T));
    c.on('error', rej);
    c.on('exit', (code) => (got ? res(got) : rej(new Error(`${file} exited with ${code}`))));
  });
}
