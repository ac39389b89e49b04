/**
 * Child process: download + parse + store a Dhan scrip master into a fresh SQLite store with the
 * real loader (loadDhanInstruments), then time loading it back into the resolver (what a warm
 * start-up does). Run in its own process so its peak memory is its own and the main bench's steady
 * state is not polluted. Peak RSS = VmHWM from /proc/self/status (the kernel's high-water mark for
 * this process image; getrusage maxRSS is not used: on Linux it carries the forking parent's RSS
 * over exec), plus the highest 50 ms sample for comparison. Reports over IPC.
 */
import { readFileSync } from 'node:fs';
import { InstrumentResolver } from '../src/engine/instruments.js';
import { loadDhanInstruments } from '../src/brokers/dhan/dhan-instruments.js';
import { Store } from '../src/store/index.js';
import { liveHeapMb } from './gc.js';
import { quietLogger } from './quiet.js';

export interface InstrumentLoadResult {
  rows: number;
  loadMs: number;
  rssBeforeMb: number;
  /** VmHWM by the end of the load (before the resolver read-back). */
  peakRssMb: number;
  peakRssSource: 'VmHWM' | 'maxRSS';
  /** Highest 50 ms sample during the load (the event loop is blocked during the store transaction, so it can miss). */
  sampledPeakRssMb: number;
  rssAfterMb: number;
  /** Warm cache: open the migrated store and read the master into the in-memory resolver. */
  warmOpenMs: number;
  warmResolverLoadMs: number;
  warmResolverRows: number;
  /** Live V8 heap the loaded resolver holds (after full GCs), MB. */
  resolverHeapMb: number;
  /** RSS after the resolver load (the read's garbage included, as a start-up leaves it), MB. */
  rssAfterResolverMb: number;
}

async function main(): Promise<void> {
  const [url, dbPath] = process.argv.slice(2);
  if (!url || !dbPath || !process.send) throw new Error('usage: fork(instrument-child.ts, [url, dbPath])');
  const { logger } = quietLogger();
  const mbNow = () => process.memoryUsage().rss / 1024 / 1024;
  const store = Store.open(dbPath);
  const rssBeforeMb = mbNow();
  let sampled = rssBeforeMb;
  const sampler = setInterval(() => (sampled = Math.max(sampled, mbNow())), 50);
  const t0 = performance.now();
  const rows = await loadDhanInstruments({ url, store: store.instruments, logger });
  const loadMs = performance.now() - t0;
  clearInterval(sampler);
  sampled = Math.max(sampled, mbNow());
  const hwm = highWaterMarkMb();
  const peakRssMb = hwm ?? process.resourceUsage().maxRSS / 1024;
  const rssAfterMb = mbNow();
  store.close();

  const t1 = performance.now();
  const warm = Store.open(dbPath);
  const warmOpenMs = performance.now() - t1;
  const heapBefore = liveHeapMb();
  const resolver = new InstrumentResolver(warm);
  const t2 = performance.now();
  const warmResolverRows = resolver.load('dhan');
  const warmResolverLoadMs = performance.now() - t2;
  const rssAfterResolverMb = mbNow();
  const resolverHeapMb = liveHeapMb() - heapBefore;
  warm.close();

  const result: InstrumentLoadResult = { rows, loadMs, rssBeforeMb, peakRssMb, peakRssSource: hwm === null ? 'maxRSS' : 'VmHWM', sampledPeakRssMb: sampled, rssAfterMb, warmOpenMs, warmResolverLoadMs, warmResolverRows, resolverHeapMb, rssAfterResolverMb };
  if (resolver.size('dhan') === 0) throw new Error('resolver empty');
  process.send(result, () => process.exit(0));
}

/** Linux: the resident set's high-water mark of this process image, MB. */
function highWaterMarkMb(): number | null {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
