/**
 * A CPU-hungry neighbour (issue 16: "the tail under load is measured, not met by chance"): its own
 * process, spinning on one core (JSON work in a loop, yielding every 50 ms so it can be stopped),
 * started before a tandem run and its floor run alike and stopped after each.
 */
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { forkBench } from './fork.js';

export async function startNeighbour(): Promise<{ stop: () => Promise<void> }> {
  const child: ChildProcess = forkBench('neighbour.ts', ['--spin']);
  await new Promise<void>((res, rej) => {
    child.once('message', () => res());
    child.once('exit', (code) => rej(new Error(`the neighbour exited with ${code}`)));
  });
  return {
    stop: () =>
      new Promise<void>((res) => {
        child.once('exit', () => res());
        child.kill('SIGKILL');
      }),
  };
}

if (process.argv.includes('--spin') && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const doc = { a: Array.from({ length: 200 }, (_, i) => ({ i, s: `x${i}` })) };
  let sink = 0;
  const spin = () => {
    const end = performance.now() + 50;
    while (performance.now() < end) sink += JSON.stringify(doc).length;
    setImmediate(spin);
  };
  process.send!('spinning');
  spin();
  void sink;
}
