/**
 * MARKET entries behind a value gate (issue 15): what valuing a leader MARKET entry costs in latency.
 *
 * A leader MARKET order has no price when it turns PENDING. With no value gate tandem copies it on
 * that PENDING update; with one (here APPROVAL_THRESHOLD_INR, far above every order so nothing ever
 * waits for a tap) it holds the entry up to its wait (engine default 300 ms) for the leader's own
 * fill, which then mirrors it at once, else values it from the last price seen or an LTP quote.
 *
 * Two tandem processes (the real process, started as the image starts it, on a copy of the warm
 * instrument database), each with a Dhan leader and one Dhan follower on its own fake Dhan living
 * in this process: one without a threshold (the baseline), one with it, in which the fake exchange
 * fills the leader's order F ms after it turned PENDING (F = 0, 5, 50), or never — the entry then
 * valued from the last price seen (the wait alone), or from an LTP quote the fake serves (a fresh
 * instrument per order, so every order asks one: the bound). Both live for the whole phase and the
 * six cases take turns in blocks of 20 orders (one process idle while the other is driven), so a
 * busy spell of a shared machine lands on every case alike.
 *
 * Latency of one copy = the follower's POST /orders received by the fake − the leader order placed
 * at the fake (right before `placeAsUser`), both on this process's performance.now(). The added
 * latency of a case = its percentile − the baseline's same percentile, in the same bench run.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyTag } from '../src/domain/tag.js';
import { startFakeDhan, type FakeDhan, type UserOrderSpec } from '../tests/fakes/dhan.js';
import { LEADER_CLIENT, followerClient } from './fake-tape.js';
import { loadAvg1 } from './machine.js';
import { probeOf } from './proc.js';
import { percentile } from './stats.js';
import { FOLLOWER_ORDERS_PER_SECOND } from './tandem.js';
import { startTandemProcess } from './tandem-process.js';

export interface MarketKnobs {
  /** Measured leader orders per case. */
  orders: number;
  /** Unmeasured leader orders before each case's measured ones. */
  warmup: number;
  /** Spacing of leader orders, ms. */
  paceMs: number;
}

export const MARKET_DEFAULTS: MarketKnobs = { orders: 200, warmup: 20, paceMs: 20 };

/** Stable names (results.json keys). */
export type MarketCaseName = 'noThreshold' | 'fill0ms' | 'fill5ms' | 'fill50ms' | 'noFillPriceSeen' | 'noFillQuote';

interface CaseSpec {
  name: MarketCaseName;
  label: string;
  /** The fake fills the leader order this long after its PENDING push (null: never). */
  fillAfterMs: number | null;
  /** A fresh instrument per order, its LTP served by the fake (nothing seen for it before: a quote). */
  freshInstrument: boolean;
}

const THRESHOLD_INR = 1_000_000_000;
/** tandem's engine default (EngineDeps.marketValueWaitMs); the bench does not set it. */
const ENGINE_WAIT_MS = 300;
const FILL_PRICE = 120.5;
/** Orders per turn of a case (see runMarketEntry). */
const BLOCK = 20;
const LTP_PRICE = 101.5;
const FOLLOWER_ID = 'f1';
/** NIFTY 26000 CE (lot 75) in the fake's master: one lot, MARKET, no price. */
const MARKET_ORDER: UserOrderSpec = { securityId: '61345', exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'MARKET', productType: 'MARGIN' };
/** Synthetic NIFTY options of the bench's scrip master (scrip-master.ts): security ids 900000 + n. */
const freshOrder = (n: number): UserOrderSpec => ({ ...MARKET_ORDER, securityId: String(900_000 + n) });

const BASELINE: CaseSpec = { name: 'noThreshold', label: 'no threshold: copy on PENDING', fillAfterMs: null, freshInstrument: false };
const GATED: CaseSpec[] = [
  { name: 'fill0ms', label: 'threshold, fill 0 ms after PENDING', fillAfterMs: 0, freshInstrument: false },
  { name: 'fill5ms', label: 'threshold, fill 5 ms after PENDING', fillAfterMs: 5, freshInstrument: false },
  { name: 'fill50ms', label: 'threshold, fill 50 ms after PENDING', fillAfterMs: 50, freshInstrument: false },
  { name: 'noFillPriceSeen', label: 'threshold, no fill, price seen', fillAfterMs: null, freshInstrument: false },
  { name: 'noFillQuote', label: 'threshold, no fill, LTP quote', fillAfterMs: null, freshInstrument: true },
];

export interface Pct {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface MarketCase {
  label: string;
  threshold: boolean;
  fillAfterMs: number | null;
  /** Leader placed → follower POST /orders received, ms. */
  latency: Pct;
  /** This case's percentile − the baseline's (same run), ms; null for the baseline. */
  addedMs: { p50: number; p90: number; p99: number } | null;
  /** Leader placed → its PENDING frame written by the fake, ms. */
  placedToPendingMs: Pct;
  /** Leader PENDING frame → the fake's fill (the TRADED frame), as it happened, ms (fill cases). */
  pendingToFillMs: Pct | null;
  /** The leader's TRADED frame → the follower's POST /orders received, ms (fill cases). */
  fillToCopyMs: Pct | null;
  /** POST /marketfeed/ltp calls tandem made per measured order. */
  quotesPerOrder: number;
  /** tandem's main thread on CPU per measured order, ms. */
  mainCpuPerOrderMs: number;
  /** tandem's main thread runnable but waiting for a CPU, per measured order, ms (the machine's other work shows here). */
  runQueueWaitPerOrderMs: number;
  /** Copies not received within the deadline (should be 0). */
  missing: number;
}

export interface MarketResult {
  followers: 1;
  thresholdInr: number;
  engineWaitMs: number;
  knobs: MarketKnobs;
  /** Orders per block: the cases take turns in blocks of this many. */
  blockOrders: number;
  /** Spawn → ready of the two tandem processes (baseline, gated; started together), ms. */
  startupMs: [number, number];
  warnLines: number;
  warnSample: string[];
  loadAvgAtStart: number;
  loadAvgAtEnd: number;
  /** Wall time of the whole phase, s. */
  elapsedS: number;
  cases: Record<MarketCaseName, MarketCase>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function pct(values: readonly number[]): Pct {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : Number.NaN;
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.at(-1) ?? Number.NaN, mean };
}

/** What the fake saw, and the fill rule it applies to each new leader PENDING. */
interface Tape {
  fillAfterMs: number | null;
  pendingAt: Map<string, number>;
  filledAt: Map<string, number>;
  /** Correlation ids of follower orders the fake accepted (progress; exact arrival from placeRequests). */
  accepted: Set<string>;
}

async function startFake(): Promise<{ fake: FakeDhan; tape: Tape }> {
  const tape: Tape = { fillAfterMs: null, pendingAt: new Map(), filledAt: new Map(), accepted: new Set() };
  let self: FakeDhan | null = null;
  const fake = await startFakeDhan({
    orderRatePerSec: 1_000_000,
    // Real Dhan allows one quote a second per account; off here so every order of the quote case asks one.
    quoteRatePerSec: 1_000_000,
    onPush: (o, at) => {
      if (o.clientId !== LEADER_CLIENT) {
        if (o.status === 'TRANSIT' && o.correlationId) tape.accepted.add(o.correlationId);
        return;
      }
      if (o.status !== 'PENDING' || tape.pendingAt.has(o.orderId)) return;
      tape.pendingAt.set(o.orderId, at);
      const f = tape.fillAfterMs;
      if (f === null) return;
      // After this frame is written (this hook runs right before the write): never inside it.
      const fill = () => {
        tape.filledAt.set(o.orderId, performance.now());
        self!.fill(o.orderId, { price: FILL_PRICE });
      };
      if (f === 0) setImmediate(fill);
      else setTimeout(fill, f);
    },
  });
  self = fake;
  return { fake, tape };
}

/** A live tandem with a Dhan leader and one Dhan follower on the fake (as tandem.ts runs it), threshold or not. */
function envFor(fake: FakeDhan, dbPath: string, threshold: boolean): Record<string, string> {
  const p = `FOLLOWER_${FOLLOWER_ID.toUpperCase()}_`;
  const clientId = followerClient(0);
  return {
    TRADING_MODE: 'live',
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
    FOLLOWERS: FOLLOWER_ID,
    [`${p}BROKER`]: 'dhan',
    [`${p}CLIENT_ID`]: clientId,
    [`${p}ACCESS_TOKEN`]: fake.addAccount(clientId),
    [`${p}ORDERS_PER_SECOND`]: String(FOLLOWER_ORDERS_PER_SECOND),
    ...(threshold ? { APPROVAL_THRESHOLD_INR: String(THRESHOLD_INR) } : {}),
  };
}

/** One tandem process on its own fake, live for the whole phase (idle while the other is driven). */
interface Proc {
  threshold: boolean;
  fake: FakeDhan;
  tape: Tape;
  tandem: ReturnType<typeof startTandemProcess>;
  probe: ReturnType<typeof probeOf>;
  dir: string;
  startupMs: number;
}

const FOLLOWER = followerClient(0);

async function startProc(warmDb: string, dbDir: string, threshold: boolean): Promise<Proc> {
  const dir = mkdtempSync(join(dbDir, 'tandem-bench-market-'));
  const dbPath = join(dir, 'tandem.db');
  copyFileSync(warmDb, dbPath);
  if (existsSync(`${warmDb}-wal`)) copyFileSync(`${warmDb}-wal`, `${dbPath}-wal`);
  const { fake, tape } = await startFake();
  const tandem = startTandemProcess(envFor(fake, dbPath, threshold), dir);
  const p = { threshold, fake, tape, tandem, probe: probeOf(tandem.pid), dir, startupMs: Number.NaN };
  try {
    p.startupMs = (await Promise.race([tandem.ready, tandem.died])) - tandem.spawnedAt;
    const down = [LEADER_CLIENT, FOLLOWER].filter((c) => fake.connectedSockets(c) === 0);
    if (down.length) throw new Error(`tandem is ready but these order streams are not logged in at the fake: ${down.join(', ')}`);
  } catch (e) {
    await stopProc(p);
    throw e;
  }
  return p;
}

async function stopProc(p: Proc): Promise<number | null> {
  try {
    return await p.tandem.stop();
  } finally {
    await p.fake.close();
    rmSync(p.dir, { recursive: true, force: true });
  }
}

/** What one case accumulates over its blocks. */
interface Acc {
  placed: { id: string; at: number }[];
  cpuMs: number;
  waitMs: number;
  quotes: number;
}

let freshInstruments = 0;

/** `n` leader orders of one case, paced, then every copy in (or a deadline); measured into `acc` unless warming up. */
async function block(p: Proc, spec: CaseSpec, n: number, paceMs: number, acc: Acc | null): Promise<void> {
  const { fake, tape } = p;
  tape.fillAfterMs = spec.fillAfterMs;
  const quotes0 = fake.quoteCalls(LEADER_CLIENT) + fake.quoteCalls(FOLLOWER);
  const main0 = p.probe.mainThread();
  const placed: { id: string; at: number }[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i += 1) {
    const wait = start + i * paceMs - performance.now();
    if (wait > 0.5) await sleep(wait);
    let order = MARKET_ORDER;
    if (spec.freshInstrument) {
      order = freshOrder(freshInstruments);
      freshInstruments += 1;
      fake.setLtp('NSE_FNO', order.securityId, LTP_PRICE);
    }
    const at = performance.now();
    placed.push({ id: fake.placeAsUser(LEADER_CLIENT, order).orderId, at });
  }
  // Every copy in, or the deadline (the wait, a quote and ample slack past the last order).
  const deadline = performance.now() + ENGINE_WAIT_MS + 10_000;
  while (!placed.every((x) => tape.accepted.has(copyTag(x.id, FOLLOWER_ID, 0))) && performance.now() < deadline) await sleep(10);
  const main1 = p.probe.mainThread();
  if (!acc) return;
  acc.placed.push(...placed);
  acc.cpuMs += main1.cpuMs - main0.cpuMs;
  acc.waitMs += main1.waitMs - main0.waitMs;
  acc.quotes += fake.quoteCalls(LEADER_CLIENT) + fake.quoteCalls(FOLLOWER) - quotes0;
}

function caseResult(p: Proc, spec: CaseSpec, acc: Acc): Omit<MarketCase, 'addedMs'> {
  const { tape } = p;
  const got = new Map(p.fake.placeRequests(FOLLOWER).map((r) => [String(r.body.correlationId), r.at] as const));
  const lat: number[] = [];
  const toPending: number[] = [];
  const toFill: number[] = [];
  const fillToCopy: number[] = [];
  let missing = 0;
  for (const x of acc.placed) {
    const at = got.get(copyTag(x.id, FOLLOWER_ID, 0));
    const pending = tape.pendingAt.get(x.id);
    const filled = tape.filledAt.get(x.id);
    if (pending !== undefined) toPending.push(pending - x.at);
    if (pending !== undefined && filled !== undefined) toFill.push(filled - pending);
    if (at === undefined) {
      missing += 1;
      continue;
    }
    lat.push(at - x.at);
    if (filled !== undefined) fillToCopy.push(at - filled);
  }
  const fills = spec.fillAfterMs !== null;
  const n = Math.max(1, acc.placed.length);
  return {
    label: spec.label,
    threshold: p.threshold,
    fillAfterMs: spec.fillAfterMs,
    latency: pct(lat),
    placedToPendingMs: pct(toPending),
    pendingToFillMs: fills ? pct(toFill) : null,
    fillToCopyMs: fills ? pct(fillToCopy) : null,
    quotesPerOrder: acc.quotes / n,
    mainCpuPerOrderMs: acc.cpuMs / n,
    runQueueWaitPerOrderMs: acc.waitMs / n,
    missing,
  };
}

/**
 * Both tandem processes run for the whole phase; the cases are driven in blocks of BLOCK orders,
 * round after round (each round in a rotated order), so a busy spell of the machine falls on every
 * case alike rather than on whichever ran then — the baseline included.
 */
export async function runMarketEntry(k: MarketKnobs, warmDb: string, dbDir = tmpdir()): Promise<MarketResult> {
  const started = performance.now();
  const loadAvgAtStart = loadAvg1();
  freshInstruments = 0;
  const procs = await Promise.allSettled([startProc(warmDb, dbDir, false), startProc(warmDb, dbDir, true)]);
  const [base, gated] = procs.map((r) => (r.status === 'fulfilled' ? r.value : null));
  if (!base || !gated) {
    await Promise.all([base, gated].map((p) => p && stopProc(p)));
    throw procs.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
  }
  const plan: [Proc, CaseSpec][] = [[base, BASELINE], ...GATED.map((c): [Proc, CaseSpec] => [gated, c])];
  const accs = plan.map((): Acc => ({ placed: [], cpuMs: 0, waitMs: 0, quotes: 0 }));
  try {
    // Warm-up: the fill cases first, so the price-seen case has a price from its first order on.
    for (const [p, spec] of plan) await Promise.race([block(p, spec, k.warmup, k.paceMs, null), p.tandem.died]);
    const rounds = Math.ceil(k.orders / BLOCK);
    for (let r = 0; r < rounds; r += 1) {
      const n = Math.min(BLOCK, k.orders - r * BLOCK);
      for (let j = 0; j < plan.length; j += 1) {
        const i = (r + j) % plan.length;
        const [p, spec] = plan[i]!;
        await Promise.race([block(p, spec, n, k.paceMs, accs[i]!), p.tandem.died]);
      }
    }
    await sleep(50); // the last follower requests land in placeRequests
  } catch (e) {
    await Promise.all([stopProc(base), stopProc(gated)]);
    throw e;
  }
  const results = plan.map(([p, spec], i) => [spec, caseResult(p, spec, accs[i]!)] as const);
  const warnLines = base.tandem.warnLines() + gated.tandem.warnLines();
  const warnSample = [...base.tandem.warnSample(), ...gated.tandem.warnSample()].slice(0, 5);
  const tails = [base.tandem.tail(), gated.tandem.tail()];
  const codes = await Promise.all([stopProc(base), stopProc(gated)]);
  codes.forEach((code, i) => {
    if (code !== 0) throw new Error(`tandem exited with ${code} on SIGTERM:\n${tails[i]}`);
  });
  const b = results[0]![1].latency;
  const cases = {} as Record<MarketCaseName, MarketCase>;
  for (const [spec, c] of results) {
    const added = spec.name === BASELINE.name ? null : { p50: c.latency.p50 - b.p50, p90: c.latency.p90 - b.p90, p99: c.latency.p99 - b.p99 };
    cases[spec.name] = { ...c, addedMs: added };
  }
  return {
    followers: 1,
    thresholdInr: THRESHOLD_INR,
    engineWaitMs: ENGINE_WAIT_MS,
    knobs: k,
    blockOrders: BLOCK,
    startupMs: [base.startupMs, gated.startupMs],
    warnLines,
    warnSample,
    loadAvgAtStart,
    loadAvgAtEnd: loadAvg1(),
    elapsedS: (performance.now() - started) / 1000,
    cases,
  };
}

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '—');

export function renderMarket(r: MarketResult): string {
  const out: string[] = [];
  const k = r.knobs;
  out.push(`MARKET entries behind a value gate (issue 15) — 1 follower · leader MARKET BUY 1 lot NIFTY option (no price) · ${k.orders} measured per case after ${k.warmup} warm-up, ${k.paceMs} ms apart`);
  out.push(`latency   leader order placed at the fake → follower POST /orders received by the fake (bench clock); threshold = APPROVAL_THRESHOLD_INR=${r.thresholdInr} (above every order),`);
  out.push(`          the engine's MARKET-entry wait ${r.engineWaitMs} ms (its default); "fill F ms": the fake fills the leader F ms after its PENDING; "no fill": nothing fills`);
  out.push(`          "price seen": same instrument as the fills before (its last price known) · "LTP quote": a fresh instrument per order, LTP served by the fake (quote limit off)`);
  out.push(`          both tandem processes live throughout; the cases take turns in blocks of ${r.blockOrders} orders, each block's copies all in before the next`);
  out.push('');
  const pad = (s: string, n: number) => s.padStart(n);
  out.push(`${'case'.padEnd(38)}${pad('n', 5)}${pad('p50', 8)}${pad('p90', 8)}${pad('p99', 8)}${pad('max', 8)}   ${'added p50 / p90 / p99 (ms)'.padEnd(28)}${pad('CPU/ord', 8)}${pad('wait/ord', 9)}`);
  for (const c of Object.values(r.cases)) {
    const L = c.latency;
    const sf = (v: number) => `${v >= 0 ? '+' : ''}${f(v)}`;
    const added = c.addedMs ? `${sf(c.addedMs.p50)} / ${sf(c.addedMs.p90)} / ${sf(c.addedMs.p99)}` : '(baseline)';
    out.push(`${c.label.padEnd(38)}${pad(String(L.n), 5)}${pad(f(L.p50), 8)}${pad(f(L.p90), 8)}${pad(f(L.p99), 8)}${pad(f(L.max), 8)}   ${added.padEnd(28)}${pad(f(c.mainCpuPerOrderMs), 8)}${pad(f(c.runQueueWaitPerOrderMs), 9)}`);
  }
  const fills = Object.values(r.cases).filter((c) => c.pendingToFillMs);
  out.push(`          as it happened, PENDING → fill p50: ${fills.map((c) => `${f(c.pendingToFillMs!.p50)}`).join(' / ')} ms; fill → copy received p50 / p99: ${fills.map((c) => `${f(c.fillToCopyMs!.p50)}/${f(c.fillToCopyMs!.p99)}`).join(', ')} ms`);
  const all = Object.values(r.cases);
  out.push(`          placed → PENDING p50 ${f(r.cases.noThreshold.placedToPendingMs.p50)} ms · quotes per order: ${all.map((c) => f(c.quotesPerOrder, 1)).join(' / ')} · copies missing ${all.reduce((n, c) => n + c.missing, 0)}`);
  out.push(`          CPU/ord, wait/ord: tandem's main thread on CPU, and runnable but waiting for a CPU (the machine's other work), per order (ms)`);
  out.push(`          added = the case's percentile − the baseline's same percentile (this run), not a percentile of differences`);
  out.push(
    `          2 tandem processes (start-up ${f(r.startupMs[0], 0)} / ${f(r.startupMs[1], 0)} ms) · warn lines ${r.warnLines}${r.warnSample[0] ? ` (first: ${r.warnSample[0].slice(0, 120)})` : ''} · load ${r.loadAvgAtStart} → ${r.loadAvgAtEnd} · phase ${f(r.elapsedS, 0)} s`,
  );
  return out.join('\n');
}
