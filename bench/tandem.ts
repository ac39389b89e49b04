/**
 * One tandem run: the real process (tandem-process.ts) in live mode with a Dhan leader and N Dhan
 * followers, all of them accounts on the taped fake Dhan that lives in this (the bench) process.
 * Its SQLite file is a fresh copy of the warm database the instrument child built (220k
 * instruments), so start-up is a warm-cache start-up. Memory and CPU are read from /proc; after a
 * SIGTERM stop, tandem's own latency record is read from its SQLite file.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { copyTag } from '../src/domain/tag.js';
import type { FakeDhan } from '../tests/fakes/dhan.js';
import { memoryOf, probeOf } from './proc.js';
import { rssMb, summarize, type Summary } from './stats.js';
import { LEADER_CLIENT, followerClient, startTapedFake } from './fake-tape.js';
import { startTandemProcess } from './tandem-process.js';
import { drive, type Follower, type RunResult, type Workload } from './workload.js';

export interface TandemResult extends RunResult {
  /** Spawn → 'tandem is running' logged (node start, warm instrument cache, every stream logged in). */
  startupMs: number;
  /** Spawn → its first log line (node start and the module graph; then the store opens). */
  firstLogMs: number;
  /** tandem's VmRSS when ready, and right after the run; its VmHWM after the run. */
  rssReadyMb: number;
  rssAfterMb: number;
  rssPeakMb: number;
  /**
   * With settling asked for: its VmRSS once idle for `settleS` seconds after the run (the steady
   * state of a copier between leader orders: V8 gives back the heap a burst grew once it is idle),
   * and the first second at which it was within 2 MB of that.
   */
  rssSettledMb?: number;
  rssSettledAfterS?: number;
  /** The bench process's own RSS (the fakes and the measurement) before tandem starts and after the run. */
  benchRssBeforeMb: number;
  benchRssAfterMb: number;
  /** process.memoryUsage() at its stop, MB (from its 'tandem stopped' line): what of the RSS is JS heap. */
  memoryAtStopMb: Record<string, number> | null;
  /** SQLite commits per leader order sent (warm-up, paced and burst), ready to stop; null when not logged. */
  commitsPerOrder: number | null;
  /** Log lines tandem wrote from ready to stop (LOG_LEVEL info). */
  logLinesInRun: number;
  warnLines: number;
  warnSample: string[];
  /** tandem's own record for the measured copies (copies.internal_latency_us): leader update taken in → just before the order call, ms. */
  engineInternal: Summary;
  /** copies.broker_latency_us: order call → broker acknowledgement, ms. */
  brokerAck: Summary;
}

export const FOLLOWER_ORDERS_PER_SECOND = 100;

/**
 * Periodic leader/follower reconciliation (RECONCILE_EVERY_MS) replays every open order, and every
 * bench order stays open (none fills), which no real day does: the bench turns it off. It still
 * runs at start-up and on (re)connect.
 */
/** The environment of a live tandem with a Dhan leader and n Dhan followers on the fake. */
function tandemEnv(fake: FakeDhan, n: number, dbPath: string): { env: Record<string, string>; followers: Follower[] } {
  const env: Record<string, string> = {
    TRADING_MODE: 'live',
    // The product's default; tandem logs nothing per order at info (start-up and stop only).
    LOG_LEVEL: 'info',
    DATABASE_PATH: dbPath,
    SIM_INTERVAL_MS: '0',
    RECONCILE_EVERY_MS: '0',
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
  return { env, followers };
}

/** tandem's recorded latencies (µs → ms) for the copies of the given leader orders, read after it stopped. */
function recordedLatencies(dbPath: string, leaderOrderIds: string[]): { internal: Summary; ack: Summary } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const wanted = new Set(leaderOrderIds);
    const rows = (
      db.prepare('SELECT leader_order_id AS id, internal_latency_us AS internalUs, broker_latency_us AS ackUs FROM copies WHERE internal_latency_us IS NOT NULL').all() as {
        id: string;
        internalUs: number;
        ackUs: number | null;
      }[]
    ).filter((r) => wanted.has(r.id));
    return { internal: summarize(rows.map((r) => r.internalUs / 1000)), ack: summarize(rows.filter((r) => r.ackUs !== null).map((r) => r.ackUs! / 1000)) };
  } finally {
    db.close();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** tandem's VmRSS sampled each second for `seconds` while idle: the last sample, and when it got there (within 2 MB). */
async function settle(pid: number, seconds: number): Promise<{ mb: number; afterS: number }> {
  const samples: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    samples.push(memoryOf(pid).rssMb);
  }
  const mb = samples.at(-1)!;
  return { mb, afterS: samples.findIndex((x, i) => samples.slice(i).every((y) => Math.abs(y - mb) <= 2)) + 1 };
}

function commitsPer(commits: number | null, orders: number): number | null {
  return commits === null || orders <= 0 ? null : commits / orders;
}

export async function runTandem(n: number, w: Workload, warmDb: string, dbDir = tmpdir(), settleS = 0): Promise<TandemResult> {
  const dir = mkdtempSync(join(dbDir, 'tandem-bench-'));
  const dbPath = join(dir, 'tandem.db');
  copyFileSync(warmDb, dbPath);
  if (existsSync(`${warmDb}-wal`)) copyFileSync(`${warmDb}-wal`, `${dbPath}-wal`);

  const { fake, tape } = await startTapedFake();
  const { env, followers } = tandemEnv(fake, n, dbPath);
  const benchRssBeforeMb = rssMb();
  const tandem = startTandemProcess(env, dir);
  try {
    const readyAt = await tandem.ready;
    const down = [LEADER_CLIENT, ...followers.map((f) => f.clientId)].filter((c) => fake.connectedSockets(c) === 0);
    if (down.length) throw new Error(`tandem is ready but these order streams are not logged in at the fake: ${down.join(', ')}`);
    const logLinesAtReady = tandem.logLines();
    const ready = memoryOf(tandem.pid);
    const { result: run, measuredIds } = await Promise.race([drive(fake, tape, followers, w, null, probeOf(tandem.pid)), tandem.died]);
    await sleep(500); // the last acknowledgements and follower order updates land
    const after = memoryOf(tandem.pid);
    const settled = settleS > 0 ? await settle(tandem.pid, settleS) : null;
    const benchRssAfterMb = rssMb();
    const logLinesInRun = tandem.logLines() - logLinesAtReady;
    const code = await tandem.stop();
    if (code !== 0) throw new Error(`tandem exited with ${code} on SIGTERM:\n${tandem.tail()}`);
    const recorded = recordedLatencies(dbPath, measuredIds);
    return {
      ...run,
      startupMs: readyAt - tandem.spawnedAt,
      firstLogMs: (tandem.firstLogAt() ?? Number.NaN) - tandem.spawnedAt,
      rssReadyMb: ready.rssMb,
      rssAfterMb: after.rssMb,
      rssPeakMb: after.hwmMb,
      ...(settled ? { rssSettledMb: settled.mb, rssSettledAfterS: settled.afterS } : {}),
      benchRssBeforeMb,
      benchRssAfterMb,
      logLinesInRun,
      warnLines: tandem.warnLines(),
      warnSample: tandem.warnSample(),
      memoryAtStopMb: tandem.memoryAtStop(),
      commitsPerOrder: commitsPer(tandem.commitsInRun(), w.warmup + run.plan.orders + run.plan.burst),
      engineInternal: recorded.internal,
      brokerAck: recorded.ack,
    };
  } finally {
    await tandem.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
