/**
 * tandem itself, in-process: startApp (TRADING_MODE=live, Dhan leader, N Dhan followers) against a
 * taped fake Dhan over loopback, console chat with no input and a discarding output, a 'warn'
 * logger into a counting sink. The SQLite file is a fresh copy of the warm database the instrument
 * child built (220k instruments), so start-up is a warm-cache start-up.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { copyTag } from '../src/domain/tag.js';
import { liveHeapMb } from './gc.js';
import { discard, quietLogger } from './quiet.js';
import { rssMb, summarize, type Summary } from './stats.js';
import { LEADER_CLIENT, followerClient, startTapedFake } from './fake-tape.js';
import { drive, type Follower, type RunResult, type Workload } from './workload.js';

export interface TandemResult extends RunResult {
  /** startApp called → resolved (warm instrument cache, every stream logged in). */
  startupMs: number;
  rssBeforeMb: number;
  rssReadyMb: number;
  rssAfterMb: number;
  /** V8 heap still live after the run (full GCs, app still running), MB. */
  liveHeapAfterMb: number;
  warnLines: number;
  warnSample: string[];
  /** tandem's own record for the measured copies (copies.internal_latency_us): leader update taken in → just before the order call, ms. */
  engineInternal: Summary;
  /** copies.broker_latency_us: order call → broker acknowledgement, ms. */
  brokerAck: Summary;
}

export const FOLLOWER_ORDERS_PER_SECOND = 100;

export async function runTandem(n: number, w: Workload, warmDb: string, dbDir = tmpdir()): Promise<TandemResult> {
  const dir = mkdtempSync(join(dbDir, 'tandem-bench-'));
  const dbPath = join(dir, 'tandem.db');
  copyFileSync(warmDb, dbPath);
  if (existsSync(`${warmDb}-wal`)) copyFileSync(`${warmDb}-wal`, `${dbPath}-wal`);

  const { fake, tape } = await startTapedFake();
  const env: Record<string, string> = {
    TRADING_MODE: 'live',
    LOG_LEVEL: 'warn',
    DATABASE_PATH: dbPath,
    SIM_INTERVAL_MS: '0',
    LEADER_BROKER: 'dhan',
    LEADER_CLIENT_ID: LEADER_CLIENT,
    LEADER_ACCESS_TOKEN: fake.addAccount(LEADER_CLIENT),
    DHAN_API_URL: fake.apiUrl,
    DHAN_ORDER_WS_URL: fake.wsUrl,
    DHAN_INSTRUMENTS_URL: fake.instrumentsUrl,
  };
  const followers: Follower[] = [];
  const ids: string[] = [];
  for (let k = 0; k < n; k += 1) {
    const id = `f${k + 1}`;
    const clientId = followerClient(k);
    const token = fake.addAccount(clientId);
    ids.push(id);
    const p = `FOLLOWER_${id.toUpperCase()}_`;
    Object.assign(env, { [`${p}BROKER`]: 'dhan', [`${p}CLIENT_ID`]: clientId, [`${p}ACCESS_TOKEN`]: token, [`${p}ORDERS_PER_SECOND`]: String(FOLLOWER_ORDERS_PER_SECOND) });
    followers.push({ clientId, token, tag: (leaderOrderId) => copyTag(leaderOrderId, id, 0) });
  }
  env.FOLLOWERS = ids.join(',');

  const log = quietLogger();
  const rssBeforeMb = rssMb();
  const t0 = performance.now();
  // Periodic leader/follower reconciliation off: it replays every open order, and every bench order
  // stays open (none fills), which no real day does. It still runs at start-up and on (re)connect.
  const app = await startApp(parseConfig(env), { logger: log.logger, consoleInput: null, consoleOutput: discard(), engine: { reconcileEveryMs: 0 } });
  const startupMs = performance.now() - t0;
  const rssReadyMb = rssMb();
  try {
    if (app.engine.leaderStream !== 'connected') throw new Error(`leader stream is ${app.engine.leaderStream} after start-up`);
    const { result: run, measuredIds } = await drive(fake, tape, followers, w, null);
    const measured = new Set(measuredIds);
    await app.engine.idle();
    await new Promise((r) => setTimeout(r, 500));
    const rssAfterMb = rssMb();
    const copies = app.store.copies.since(null, 0).filter((c) => measured.has(c.leaderOrderId) && c.internalLatencyUs !== null);
    return {
      ...run,
      startupMs,
      rssBeforeMb,
      rssReadyMb,
      rssAfterMb,
      liveHeapAfterMb: liveHeapMb(),
      warnLines: log.lines(),
      warnSample: log.sample(),
      engineInternal: summarize(copies.map((c) => c.internalLatencyUs! / 1000)),
      brokerAck: summarize(copies.filter((c) => c.brokerLatencyUs !== null).map((c) => c.brokerLatencyUs! / 1000)),
    };
  } finally {
    await app.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
