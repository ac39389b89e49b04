/**
 * The leader workload and its measurement, shared by the tandem run and the floor run so both see
 * exactly the same orders: a fake Dhan over loopback, one leader account whose web-app orders are
 * pushed on its order socket (TRANSIT, then PENDING a timer tick later; the PENDING frame is the one
 * that gets copied), N follower accounts whose POST /orders arrivals the fake timestamps.
 *
 * Latency of one copy = follower request RECEIVED at the fake (its performance.now() at arrival)
 * − leader PENDING frame SENT (the fake's onPush hook, right before it writes the frame). Both
 * clocks are the bench process's performance.now(); the process under test (tandem, or the floor)
 * is another process, whose CPU the bench reads from /proc through a Probe.
 */
import type { FakeDhan } from '../tests/fakes/dhan.js';
import { LEADER_CLIENT, LEADER_ORDER, type Tape } from './fake-tape.js';
import { summarize, type Summary } from './stats.js';

export interface Workload {
  /** Measured leader orders wanted per run (fewer only when the time budget says so; see Plan). */
  orders: number;
  /** The fastest pace; a run slows it down so tandem's main thread stays below maxUtil (see Plan). */
  paceMs: number;
  /** Highest share of time on CPU the paced run may impose on tandem's main thread (0 = keep paceMs whatever it costs). */
  maxUtil: number;
  warmup: number;
  burst: number;
  /** Time allowed for the paced phase and for the burst of a run with more than one follower (0 = no limit). */
  pacedBudgetMs: number;
  burstBudgetMs: number;
}

/** What one run actually does. */
export interface Plan {
  /** Spacing of the paced leader orders, ms. */
  paceMs: number;
  orders: number;
  burst: number;
  /** Why the pace or counts differ from the workload's, if they do. */
  note: string | null;
}

export interface Follower {
  clientId: string;
  token: string;
  /** The correlation id this follower's copy of a leader order carries. */
  tag: (leaderOrderId: string) => string;
}

export interface BurstResult {
  orders: number;
  copies: number;
  /** First leader PENDING frame sent → last follower request received. */
  ms: number;
  copiesPerSec: number;
  leaderOrdersPerSec: number;
  /** The same for the first 100 orders only (inside the follower token bucket's burst of 100). */
  first100Ms: number;
  first100CopiesPerSec: number;
}

/** CPU of the process under test, read from outside (proc.ts), ms since it started. */
export interface Probe {
  /** Its main thread (the event loop): on CPU, and runnable but waiting for a CPU (every core busy). */
  mainThread(): { cpuMs: number; waitMs: number };
  /** All its threads, user + system. */
  cpuMs(): number;
}

export interface RunResult {
  followers: number;
  plan: Plan;
  /** Main thread of the process under test on CPU per leader order, in the warm-up, ms (time blocked off CPU, e.g. in an fsync, is not in it). */
  busyPerOrderMs: number;
  /** Share of the paced run's wall time its main thread was on CPU. */
  pacedUtil: number;
  /** Paced run: time its main thread waited for a CPU, per leader order, ms (other work on the machine, the bench's fakes included, shows here). */
  runQueueWaitPerOrderMs: number;
  /** Mean spacing actually achieved between paced leader orders. */
  achievedPaceMs: number;
  /** Every (leader order, follower) copy, ms. */
  internal: Summary;
  /** Per leader order: its slowest follower, ms. */
  last: Summary;
  /** Last paced leader frame → its last copy received: a backlog shows here. */
  tailMs: number;
  /** The run could not keep up with the pace (a backlog built up, so latency includes queueing). */
  saturated: boolean;
  burst: BurstResult;
  /** Copies never seen at the fake within the deadline (should be 0). */
  missing: number;
  /** CPU of the process under test (user + system, all threads) per measured leader order, ms. */
  cpuPerOrderMs: number;
  /** CPU of the bench process (the fake brokers and this measurement) per measured leader order, ms. */
  benchCpuPerOrderMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function paced(fake: FakeDhan, n: number, paceMs: number): Promise<{ ids: string[]; achievedPaceMs: number }> {
  const ids: string[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i += 1) {
    const wait = start + i * paceMs - performance.now();
    if (wait > 0.5) await sleep(wait);
    ids.push(fake.placeAsUser(LEADER_CLIENT, LEADER_ORDER).orderId);
  }
  return { ids, achievedPaceMs: n > 1 ? (performance.now() - start) / (n - 1) : 0 };
}

/** Wait until every follower's copy of every leader order in `ids` was accepted by the fake (or time out). */
async function settle(tape: Tape, followers: Follower[], ids: string[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    // Newest first: while copies are in flight this exits at once, so polling stays cheap.
    const done = [...ids].reverse().every((id) => followers.every((f) => tape.accepted.has(f.tag(id))));
    if (done || performance.now() > deadline) return;
    await sleep(50);
  }
}

/** First leader frame → last copy accepted, over `ids`. */
function span(tape: Tape, followers: Follower[], ids: string[]): number {
  let first = Infinity;
  let last = -Infinity;
  for (const id of ids) {
    first = Math.min(first, tape.pendingAt.get(id) ?? Infinity);
    for (const f of followers) last = Math.max(last, tape.accepted.get(f.tag(id)) ?? -Infinity);
  }
  return last - first;
}

/**
 * Pace and counts from what a warm-up order cost the main thread: the pace keeps utilisation at
 * or below maxUtil (a latency figure, not a queue length), and runs with more than one follower
 * get as many orders as fit their time budget.
 */
export function planFor(w: Workload, followers: number, busyPerOrderMs: number): Plan {
  const paceMs = w.maxUtil > 0 ? Math.max(w.paceMs, Math.ceil(busyPerOrderMs / w.maxUtil)) : w.paceMs;
  const budgeted = followers > 1;
  const fit = (budget: number, perOrder: number, wanted: number) => (budgeted && budget > 0 ? Math.min(wanted, Math.max(50, Math.floor(budget / perOrder))) : wanted);
  const orders = fit(w.pacedBudgetMs, paceMs, w.orders);
  const burst = fit(w.burstBudgetMs, Math.max(1, busyPerOrderMs), w.burst);
  const why: string[] = [];
  if (paceMs > w.paceMs) why.push(`paced ${paceMs} ms apart, not ${w.paceMs}: a leader order keeps tandem's main thread on CPU ${busyPerOrderMs.toFixed(1)} ms, and utilisation stays ≤ ${w.maxUtil}`);
  if (orders < w.orders || burst < w.burst) why.push(`${orders} of ${w.orders} orders and a burst of ${burst} fit the ${(w.pacedBudgetMs / 1000).toFixed(0)} s + ${(w.burstBudgetMs / 1000).toFixed(0)} s budget (--no-budget for the full counts)`);
  return { paceMs, orders, burst, note: why.length ? why.join('; ') : null };
}

/**
 * Warm-up, then the paced run, then the burst; everything measured at the fake. The plan comes
 * from the warm-up (the tandem run), or is given (the floor repeats tandem's plan).
 */
export async function drive(fake: FakeDhan, tape: Tape, followers: Follower[], w: Workload, plan: Plan | null, probe: Probe): Promise<{ result: RunResult; measuredIds: string[] }> {
  const { pendingAt } = tape;
  // Warm-up in two halves: the first warms the JIT and the connections, the second is timed.
  const half = Math.floor(w.warmup / 2);
  await settle(tape, followers, (await paced(fake, half, w.paceMs)).ids, 60_000);
  const main0 = probe.mainThread().cpuMs;
  const warm = await paced(fake, w.warmup - half, w.paceMs);
  await settle(tape, followers, warm.ids, 60_000);
  const busyPerOrderMs = (probe.mainThread().cpuMs - main0) / Math.max(1, warm.ids.length);
  const p = plan ?? planFor(w, followers.length, busyPerOrderMs);

  const benchCpu0 = process.cpuUsage();
  const cpu0 = probe.cpuMs();
  const main1 = probe.mainThread();
  const wall1 = performance.now();
  const run = await paced(fake, p.orders, p.paceMs);
  await settle(tape, followers, run.ids, 180_000);
  const main2 = probe.mainThread();
  const pacedUtil = (main2.cpuMs - main1.cpuMs) / (performance.now() - wall1);
  const cpuMs = probe.cpuMs() - cpu0;
  const benchCpu = process.cpuUsage(benchCpu0);

  await sleep(1100); // the follower token buckets refill before the burst
  const burstIds: string[] = [];
  for (let i = 0; i < p.burst; i += 1) burstIds.push(fake.placeAsUser(LEADER_CLIENT, LEADER_ORDER).orderId);
  await settle(tape, followers, burstIds, 120_000);

  const got = followers.map((f) => new Map(fake.placeRequests(f.clientId).map((r) => [String(r.body.correlationId), r.at] as const)));
  const internal: number[] = [];
  const last: number[] = [];
  let missing = 0;
  for (const id of run.ids) {
    const t0 = pendingAt.get(id);
    let slowest = -Infinity;
    for (const [k, f] of followers.entries()) {
      const at = got[k]!.get(f.tag(id));
      if (t0 === undefined || at === undefined) {
        missing += 1;
        continue;
      }
      internal.push(at - t0);
      slowest = Math.max(slowest, at - t0);
    }
    if (slowest > -Infinity) last.push(slowest);
  }
  const lastId = run.ids.at(-1);
  const tailMs = lastId ? span(tape, followers, [lastId]) : Number.NaN;

  const burstSpan = (ids: string[]) => {
    let first = Infinity;
    let lastAt = -Infinity;
    let copies = 0;
    for (const id of ids) {
      first = Math.min(first, pendingAt.get(id) ?? Infinity);
      for (const [k, f] of followers.entries()) {
        const at = got[k]!.get(f.tag(id));
        if (at === undefined) continue;
        copies += 1;
        lastAt = Math.max(lastAt, at);
      }
    }
    return { copies, ms: lastAt - first };
  };
  const all = burstSpan(burstIds);
  const head = burstSpan(burstIds.slice(0, 100));
  for (const id of burstIds) for (const [k, f] of followers.entries()) if (!got[k]!.has(f.tag(id))) missing += 1;

  const lastSummary = summarize(last);
  const result: RunResult = {
    followers: followers.length,
    plan: p,
    busyPerOrderMs,
    pacedUtil,
    runQueueWaitPerOrderMs: (main2.waitMs - main1.waitMs) / Math.max(1, p.orders),
    achievedPaceMs: run.achievedPaceMs,
    internal: summarize(internal),
    last: lastSummary,
    tailMs,
    // A backlog: the last order waited far longer than a typical one, and longer than several paces;
    // or the whole run queued (the typical order waited longer than two paces).
    saturated: tailMs > Math.max(5 * p.paceMs, 3 * lastSummary.p50) || lastSummary.p50 > 2 * p.paceMs,
    burst: {
      orders: burstIds.length,
      copies: all.copies,
      ms: all.ms,
      copiesPerSec: (all.copies / all.ms) * 1000,
      leaderOrdersPerSec: (burstIds.length / all.ms) * 1000,
      first100Ms: head.ms,
      first100CopiesPerSec: (head.copies / head.ms) * 1000,
    },
    missing,
    cpuPerOrderMs: cpuMs / Math.max(1, p.orders),
    benchCpuPerOrderMs: (benchCpu.user + benchCpu.system) / 1000 / Math.max(1, p.orders),
  };
  return { result, measuredIds: run.ids };
}
