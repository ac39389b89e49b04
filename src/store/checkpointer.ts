/**
 * WAL checkpoints off the main thread. SQLite's automatic checkpoint runs inside whichever commit
 * crosses 1,000 WAL pages — on the main thread, with two fsyncs (synchronous=NORMAL syncs at
 * checkpoints) — so every few dozen leader orders one of them would stall for milliseconds. The
 * app's connection turns the automatic checkpoint off, and a worker thread with its own
 * connection runs a PASSIVE checkpoint (never blocks the writer) every `everyMs`.
 *
 * The worker is plain CommonJS evaluated from a string, so it runs the same under tsx and from
 * dist/. If it fails, the main connection's automatic checkpoint is turned back on.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  const done = new Int32Array(workerData.done);
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stop the worker and wait (up to 2 s) until its connection is closed: call before closing the main one. */
  stop(): void;
}

export function startCheckpointer(sqlite: Database.Database, file: string, everyMs = 1_000, onError: (e: Error) => void = () => {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  sqlite.pragma('wal_autocheckpoint = 0');
  const done = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER, { eval: true, workerData: { driver, file, everyMs, done } });
  worker.unref();
  let stopped = false;
  worker.on('error', (e) => {
    if (stopped) return;
    stopped = true;
    sqlite.pragma('wal_autocheckpoint = 1000');
    onError(e);
  });
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      worker.postMessage('stop');
      // Synchronous, so that Store.close stays synchronous; the worker answers within a checkpoint.
      Atomics.wait(new Int32Array(done), 0, 0, 2_000);
    },
  };
}
