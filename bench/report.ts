/** The human table and the targets. */
import { renderHttpClients, type HttpClientsResult } from './http-clients.js';
import type { Machine } from './machine.js';
import type { InstrumentLoadResult } from './instrument-child.js';
import { renderMarket, type MarketResult } from './market-entry.js';
import type { TandemResult } from './tandem.js';
import type { RunResult, Workload } from './workload.js';

export interface ScenarioResult {
  followers: number;
  tandem: TandemResult;
  floor: RunResult;
  /** Run beside a CPU-hungry neighbour process (neighbour.ts), tandem's run and the floor's alike. */
  neighbour?: boolean;
}

export interface Results {
  engine: string;
  machine: Machine;
  workload: Workload & { followerOrdersPerSecond: number; fakeRateLimit: 'off'; periodicReconcile: 'off' };
  /** The bench process (the fakes, the measurement), at its start. */
  benchRssAtStartMb: number;
  loadAvgAtEnd: number;
  elapsedS: number;
  instruments: InstrumentLoadResult & { fileMb: number; fileRows: number; measuredIn: string };
  scenarios: ScenarioResult[];
  /** The tandem process's VmRSS after a run, the highest over the runs. */
  /** tandem's RSS settled after the run with the most followers (idle --settle-s seconds; NaN when not measured). */
  steadyRssMb: number;
  /** The highest RSS right after a run (half a second after its last order). */
  rssAfterRunsMb: number;
  /** MARKET entries with and without a value gate (market-entry.ts); absent with --no-market. */
  market?: MarketResult;
  /** Which bare HTTP client sends an order fastest (the floor's stack), and tandem's own transport beside them. */
  httpClients?: HttpClientsResult;
  targets: Target[];
  /** The headline figures under stable names, to compare across commits (`--json`). */
  figures: Record<string, number>;
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  unit: string;
  pass: boolean;
}

/** Scenario key in figures and targets: `f5`, or `f5_busy` beside the neighbour. */
const key = (s: ScenarioResult) => `f${s.followers}${s.neighbour ? '_busy' : ''}`;

/** Issue 16's targets, as ratios to the floor on the fastest stack, plus the memory and instrument-load ones. */
export function targets(r: Omit<Results, 'targets' | 'figures'>): Target[] {
  const t: Target[] = [];
  const add = (name: string, value: number | undefined, limit: number, unit: string) => {
    if (value !== undefined) t.push({ name, value, limit, unit, pass: value <= limit });
  };
  for (const s of r.scenarios.filter((x) => !x.neighbour)) {
    const n = `${s.followers} follower${s.followers === 1 ? '' : 's'}`;
    add(`${n}: p50 / floor`, s.tandem.internal.p50 / s.floor.internal.p50, 1.2, '×');
    add(`${n}: p99 / floor`, s.tandem.internal.p99 / s.floor.internal.p99, 1.5, '×');
    if (s.followers > 1) add(`${n}: last-follower p99 / floor`, s.tandem.last.p99 / s.floor.last.p99, 1.5, '×');
    add(`${n}: main-thread CPU per order / floor`, s.tandem.busyPerOrderMs / s.floor.busyPerOrderMs, 1.5, '×');
  }
  add('instrument load 220k rows: time', r.instruments.loadMs / 1000, 5, 's');
  add('instrument load 220k rows: peak RSS', r.instruments.peakRssMb, 250, 'MB');
  add('steady RSS (tandem process, settled after the largest run)', r.steadyRssMb, 150, 'MB');
  return t;
}

/** Flat, stable names: `<scenario>.<figure>`, e.g. `f20.p99_ms`, `f20.cpu_per_order_x_floor`, `steady_rss_mb`. */
export function figures(r: Omit<Results, 'targets' | 'figures'>): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (k: string, v: number) => {
    if (Number.isFinite(v)) out[k] = Number(v.toFixed(4));
  };
  for (const s of r.scenarios) {
    const k = key(s);
    const T = s.tandem;
    const F = s.floor;
    put(`${k}.orders`, T.plan.orders);
    put(`${k}.p50_ms`, T.internal.p50);
    put(`${k}.p99_ms`, T.internal.p99);
    put(`${k}.last_p99_ms`, T.last.p99);
    put(`${k}.cpu_per_order_ms`, T.busyPerOrderMs);
    put(`${k}.floor_p50_ms`, F.internal.p50);
    put(`${k}.floor_p99_ms`, F.internal.p99);
    put(`${k}.floor_last_p99_ms`, F.last.p99);
    put(`${k}.floor_cpu_per_order_ms`, F.busyPerOrderMs);
    put(`${k}.p50_x_floor`, T.internal.p50 / F.internal.p50);
    put(`${k}.p99_x_floor`, T.internal.p99 / F.internal.p99);
    put(`${k}.last_p99_x_floor`, T.last.p99 / F.last.p99);
    put(`${k}.cpu_per_order_x_floor`, T.busyPerOrderMs / F.busyPerOrderMs);
    put(`${k}.rss_after_mb`, T.rssAfterMb);
    if (T.commitsPerOrder !== null) put(`${k}.sqlite_commits_per_order`, T.commitsPerOrder);
    if (T.rssSettledMb !== undefined) put(`${k}.rss_settled_mb`, T.rssSettledMb);
    if (T.rssSettledAfterS !== undefined) put(`${k}.rss_settled_after_s`, T.rssSettledAfterS);
  }
  put('steady_rss_mb', r.steadyRssMb);
  put('rss_after_runs_mb', r.rssAfterRunsMb);
  put('instruments_load_s', r.instruments.loadMs / 1000);
  for (const c of r.httpClients?.results ?? []) put(`http.${c.client.replace(':', '_')}.${c.shape}.cpu_us_per_request`, c.cpuUsPerRequest);
  return out;
}

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const pad = (s: string, n: number) => s.padStart(n);

export function render(r: Results): string {
  const fastest = r.httpClients?.fastest ?? 'axios';
  const m = r.machine;
  const w = r.workload;
  const out: string[] = [];
  out.push(`tandem bench — engine: ${r.engine}`);
  out.push(`machine   ${m.nproc} CPU (${m.cpu}) · ${m.memTotalGiB} GiB RAM · node ${m.node} · ${m.platform} · SQLite files on ${m.dbFs}`);
  out.push(`          load average ${m.loadAvgAtStart} at start, ${r.loadAvgAtEnd} at end${Math.max(m.loadAvgAtStart, r.loadAvgAtEnd) > m.nproc / 2 ? '  ← the machine was busy with other work: figures are pessimistic' : ''}`);
  if (r.scenarios.length === 0) {
    // --market: that phase only.
    if (r.market) out.push('', renderMarket(r.market));
    out.push('', `bench wall time ${f(r.elapsedS, 0)} s`);
    return out.join('\n');
  }
  out.push(
    `workload  per run: ${w.warmup} warm-up + ${w.orders} measured leader orders, paced ${w.paceMs} ms apart or slower: the pace is slowed until tandem's main thread`,
  );
  out.push(`          is on CPU at most ${w.maxUtil > 0 ? `${w.maxUtil * 100}%` : '∞'} of the time (measured in the warm-up), so the figures are latency, not a queue; each follower queue allows ${w.followerOrdersPerSecond}/s;`);
  out.push(`          then ${w.burst} pushed back to back; fake Dhan's own rate limit off; 1 lot NIFTY CE limit BUY, ratio 1`);
  out.push(`          periodic reconcile off (RECONCILE_EVERY_MS=0: every bench order stays open, and each reconcile would replay them all)`);
  if (w.pacedBudgetMs > 0) out.push(`          runs with >1 follower get ${w.pacedBudgetMs / 1000} s paced + ${w.burstBudgetMs / 1000} s burst and shrink their counts to fit (said below)`);
  out.push(`latency   leader PENDING frame written by the fake → follower POST /orders received by the fake: both timestamps taken in the bench process (performance.now())`);
  out.push(`tandem    its own process (LOG_LEVEL info, console chat on /dev/null); CPU and RSS read from /proc; its own latency record read from its SQLite file after a SIGTERM stop`);
  out.push(`floor     its own process: ws client → JSON.parse → POST /orders via bare ${fastest} (the fastest client below; keep-alive), one client per follower, no logic`);
  out.push(`tandem's  order calls go out on src/infra/json-http.ts (undici); a "+busy" run has a CPU-hungry neighbour process spinning on one core beside tandem and the floor`);
  out.push('');
  out.push(`${'followers'.padEnd(10)}${'metric'.padEnd(34)}${pad('tandem', 10)}${pad('floor', 10)}${pad('×floor', 8)}`);
  const line = (n: string, metric: string, t: number, fl: number | null, d = 2, ratio = true) =>
    out.push(`${n.padEnd(10)}${metric.padEnd(34)}${pad(f(t, d), 10)}${pad(fl === null ? '' : f(fl, d), 10)}${pad(ratio && fl ? f(t / fl, 1) : '', 8)}`);
  for (const s of r.scenarios) {
    const T = s.tandem;
    const F = s.floor;
    const n = `${s.followers}${s.neighbour ? '+busy' : ''}`;
    const note = (t: string) => out.push(`${''.padEnd(10)}${t}`);
    line(n, `paced every ${T.plan.paceMs} ms, orders`, T.plan.orders, F.plan.orders, 0, false);
    line('', 'internal p50 (ms)', T.internal.p50, F.internal.p50);
    line('', 'internal p95 (ms)', T.internal.p95, F.internal.p95);
    line('', 'internal p99 (ms)', T.internal.p99, F.internal.p99);
    line('', 'internal max (ms)', T.internal.max, F.internal.max);
    line('', 'last follower p50 (ms)', T.last.p50, F.last.p50);
    line('', 'last follower p99 (ms)', T.last.p99, F.last.p99);
    line('', 'main thread on CPU / order (ms)', T.busyPerOrderMs, F.busyPerOrderMs);
    line('', 'main thread CPU wait / order (ms)', T.runQueueWaitPerOrderMs, F.runQueueWaitPerOrderMs, 2, false);
    line('', 'CPU / order, all threads (ms)', T.cpuPerOrderMs, F.cpuPerOrderMs);
    line('', 'bench (fakes) CPU / order (ms)', T.benchCpuPerOrderMs, F.benchCpuPerOrderMs, 2, false);
    line('', `burst ${T.burst.orders}: copies/s`, T.burst.copiesPerSec, F.burst.copiesPerSec, 0);
    line('', 'burst first 100: copies/s', T.burst.first100CopiesPerSec, F.burst.first100CopiesPerSec, 0);
    line('', 'start-up to ready, warm cache (ms)', T.startupMs, null, 0, false);
    out[out.length - 1] += ` (spawn → 'tandem is running'; node start included: first log line at ${f(T.firstLogMs, 0)} ms)`;
    line('', 'tandem RSS ready → after run (MB)', T.rssReadyMb, null, 0, false);
    out[out.length - 1] += ` → ${f(T.rssAfterMb, 0)} (VmHWM ${f(T.rssPeakMb, 0)})`;
    if (T.rssSettledMb !== undefined) out[out.length - 1] += ` → settled ${f(T.rssSettledMb, 0)} (idle, there after ${T.rssSettledAfterS} s)`;
    const m = T.memoryAtStopMb;
    if (m) note(`tandem memory at its stop (MB): RSS ${m.rss} = JS heap ${m.heapUsed} used of ${m.heapTotal} + external ${m.external} (array buffers ${m.arrayBuffers}) + native (SQLite, malloc, code) ≈ ${(m.rss ?? 0) - (m.heapTotal ?? 0) - (m.external ?? 0)}`);
    line('', 'bench RSS before → after (MB)', T.benchRssBeforeMb, null, 0, false);
    out[out.length - 1] += ` → ${f(T.benchRssAfterMb, 0)}`;
    note(`tandem's own record: event → order call p50 ${f(T.engineInternal.p50)} / p99 ${f(T.engineInternal.p99)} ms; broker ack p50 ${f(T.brokerAck.p50)} ms`);
    note(
      `main thread ${f(T.pacedUtil * 100, 0)}% on CPU while paced (floor ${f(F.pacedUtil * 100, 0)}%); capacity ≈ ${f(1000 / T.busyPerOrderMs, 0)} leader orders/s = ${f((1000 / T.busyPerOrderMs) * s.followers, 0)} copies/s (floor ${f((1000 / F.busyPerOrderMs) * s.followers, 0)}) · copies missing ${T.missing}/${F.missing}`,
    );
    if (T.commitsPerOrder !== null) note(`SQLite commits per leader order (ready → stop, warm-up and burst included): ${f(T.commitsPerOrder, 2)} · the floor records nothing`);
    note(`tandem log: ${T.logLinesInRun} lines during the run · warn/error lines ${T.warnLines}${T.warnSample[0] ? `, first: ${T.warnSample[0].slice(0, 160)}` : ''}`);
    const queued = (x: RunResult) => `last-follower p50 ${f(x.last.p50, 0)} ms at a pace of ${x.plan.paceMs} ms; the last paced order waited ${f(x.tailMs, 0)} ms`;
    if (T.saturated) note(`SATURATED: the latency rows include queueing (${queued(T)})`);
    if (F.saturated) note(`floor SATURATED (${queued(F)})`);
    if (T.plan.note) note(T.plan.note);
  }
  out.push(`${''.padEnd(10)}burst ceiling by design: each follower queue allows ${w.followerOrdersPerSecond}/s after a bucket of ${w.followerOrdersPerSecond}; "first 100" stays inside the bucket`);
  if (r.httpClients) out.push('', ...renderHttpClients(r.httpClients));
  out.push('');
  const i = r.instruments;
  out.push(`instruments (${i.measuredIn}): ${i.fileRows} rows (${i.rows} stored; index rows are skipped), ${f(i.fileMb, 1)} MB CSV over loopback → loadDhanInstruments → SQLite`);
  out.push(`          load ${f(i.loadMs / 1000, 2)} s · peak RSS ${f(i.peakRssMb, 0)} MB (${i.peakRssSource}; 50 ms samples max ${f(i.sampledPeakRssMb, 0)}; ${f(i.rssBeforeMb, 0)} before, ${f(i.rssAfterMb, 0)} after)`);
  out.push(`          warm cache: open store ${f(i.warmOpenMs, 0)} ms + resolver load of ${i.warmResolverRows} rows ${f(i.warmResolverLoadMs, 0)} ms (tandem's start-ups above include it);`);
  out.push(`          the loaded resolver holds ${f(i.resolverHeapMb, 0)} MB of live heap; RSS after that load ${f(i.rssAfterResolverMb, 0)} MB`);
  out.push(`RSS       tandem right after a run (highest) ${f(r.rssAfterRunsMb, 0)} MB; steady = settled after the largest run, once idle ${f(r.steadyRssMb, 0)} MB`);
  out.push('          (V8 gives back the heap a burst grew when the process goes idle; the 220k-row instrument cache behind its bounded cache included)');
  const benchAfter = r.scenarios.map((s) => s.tandem.benchRssAfterMb);
  const [lo, hi] = [f(Math.min(...benchAfter), 0), f(Math.max(...benchAfter), 0)];
  out.push(`          the bench process (the fakes and the measurement, not tandem): ${f(r.benchRssAtStartMb, 0)} MB at its start, ${lo === hi ? lo : `${lo}–${hi}`} MB after the tandem runs`);
  if (r.market) out.push('', renderMarket(r.market));
  out.push('');
  out.push(`bench wall time ${f(r.elapsedS, 0)} s`);
  out.push('');
  out.push('targets');
  for (const t of r.targets) out.push(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.name.padEnd(44)} ${f(t.value)} ${t.unit} (≤ ${t.limit} ${t.unit})`);
  return out.join('\n');
}
