/** A quiet logger for the bench's children (the instrument load must not measure a terminal). */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../src/infra/logger.js';

/** Level 'warn' into a sink that only counts lines and keeps the first few (to report anomalies). */
export function quietLogger(): { logger: Logger; lines: () => number; sample: () => string[] } {
  let n = 0;
  const first: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      n += 1;
      if (first.length < 5) first.push(String(chunk).slice(0, 300));
      cb();
    },
  });
  return { logger: createLogger({ level: 'warn', pretty: false, destination: sink }), lines: () => n, sample: () => [...first] };
}
