/**
 * `npm run bench` — latency you can quote. See report.ts for what is printed.
 *
 *   npm run bench                       table on stdout
 *   npm run bench -- --json [path]      also write the results (default bench/results.json)
 *   knobs: --orders N --pace-ms N (fastest pace) --max-util U (slow the pace so tandem's main thread
 *          is on CPU ≤ U of the time; default 0.6) | --fixed-pace --warmup N --burst N --followers 1,5,20
 *          --paced-budget-s S --burst-budget-s S (runs with >1 follower, default 12 and 5: counts shrink to
 *          fit, and say so; with them a run stays shorter than tandem's 30 s periodic reconcile) | --no-budget
 *          --db-dir DIR (where tandem's SQLite files go, e.g. /dev/shm to see the cost without fsync)
 *          MARKET entries behind a value gate (market-entry.ts; runs by default after the follower runs):
 *          --market (only this phase, plus the instrument load it needs) | --no-market
 *          --market-orders N (per case; default 200, with --market: --orders when given) --market-pace-ms N --market-warmup N
 *          --neighbour-followers N (default 5; 0 = no run beside a CPU-hungry neighbour process)
 *          --settle-s S (default 30; 0 = off): after the run with the most followers, tandem is left idle S s
 *          and its RSS sampled each second: the steady RSS is where it settles
 *
 * Phases: (1) a child process loads a 220k-row scrip master into a fresh SQLite file (time, peak
 * RSS) — that file is the warm cache for (2): per follower count, tandem as the real process, then
 * the floor (its own process) with the same order counts. The fake brokers of (2) live in this
 * process; first, which bare HTTP client sends an order fastest (http-clients.ts): the floor uses it.
 * Then one follower count again with a CPU-hungry neighbour process beside tandem and the floor
 * (neighbour.ts). (3) MARKET entries with and without a value gate (market-entry.ts), 1 follower.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFloor } from './floor.js';
import type { HttpClientsResult } from './http-clients.js';
import { startNeighbour } from './neighbour.js';
import { runChild } from './fork.js';
import type { InstrumentLoadResult } from './instrument-child.js';
import { loadAvg1, machine } from './machine.js';
import { MARKET_DEFAULTS, runMarketEntry, type MarketKnobs } from './market-entry.js';
import { figures, render, targets, type Results, type ScenarioResult } from './report.js';
import { serveFile } from './scrip-master.js';
import { mb, rssMb } from './stats.js';
import { FOLLOWER_ORDERS_PER_SECOND, runTandem } from './tandem.js';
import { IMAGE_COMMAND } from './tandem-process.js';
import type { Workload } from './workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCRIP_ROWS = 220_000;

function args() {
  const argv = process.argv.slice(2);
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, d: number) => {
    const v = value(name);
    return v === undefined ? d : Number(v);
  };
  const j = argv.indexOf('--json');
  const next = j >= 0 ? argv[j + 1] : undefined;
  return {
    json: j < 0 ? null : next && !next.startsWith('--') ? resolve(next) : join(HERE, 'results.json'),
    workload: {
      orders: num('--orders', 1000),
      paceMs: num('--pace-ms', 12),
      maxUtil: argv.includes('--fixed-pace') ? 0 : num('--max-util', 0.6),
      warmup: num('--warmup', 50),
      burst: num('--burst', 200),
      pacedBudgetMs: argv.includes('--no-budget') ? 0 : num('--paced-budget-s', 12) * 1000,
      burstBudgetMs: argv.includes('--no-budget') ? 0 : num('--burst-budget-s', 5) * 1000,
    } satisfies Workload,
    followers: (value('--followers') ?? '1,5,20').split(',').map(Number),
    market: argv.includes('--no-market') ? ('off' as const) : argv.includes('--market') ? ('only' as const) : ('on' as const),
    marketKnobs: {
      orders: num('--market-orders', argv.includes('--market') ? num('--orders', MARKET_DEFAULTS.orders) : MARKET_DEFAULTS.orders),
      warmup: num('--market-warmup', MARKET_DEFAULTS.warmup),
      paceMs: num('--market-pace-ms', MARKET_DEFAULTS.paceMs),
    } satisfies MarketKnobs,
    /** Where tandem's SQLite files go (fsync cost lives there); default the OS temp dir. */
    dbDir: value('--db-dir') ? resolve(value('--db-dir')!) : tmpdir(),
    neighbourFollowers: num('--neighbour-followers', 5),
    settleS: num('--settle-s', 30),
  };
}

async function loadInstrumentsInChild(dir: string): Promise<InstrumentLoadResult & { fileMb: number; dbPath: string }> {
  const csv = join(dir, 'api-scrip-master.csv');
  const { bytes } = await runChild<{ bytes: number }>('scrip-master.ts', [csv, String(SCRIP_ROWS)]);
  const server = await serveFile(csv);
  const dbPath = join(dir, 'warm.db');
  try {
    const result = await runChild<InstrumentLoadResult>('instrument-child.ts', [server.url, dbPath]);
    return { ...result, fileMb: mb(bytes), dbPath };
  } finally {
    await server.close();
  }
}

async function main(): Promise<void> {
  const a = args();
  const started = performance.now();
  const benchRssAtStartMb = rssMb();
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-'));
  try {
    const m = machine(a.dbDir);
    let t = performance.now();
    /** Seconds since the last lap. */
    const lap = () => {
      const s = ((performance.now() - t) / 1000).toFixed(0);
      t = performance.now();
      return `${s} s`;
    };
    // tandem runs as the Docker image runs it: compiled JavaScript in dist/, built the same way.
    process.stderr.write('building dist/ (tsc -p tsconfig.build.json)…');
    execFileSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', join(HERE, '../tsconfig.build.json')], { stdio: 'inherit' });
    process.stderr.write(` ${lap()}\n`);
    process.stderr.write(`instrument load (${SCRIP_ROWS} rows, child process)…`);
    const inst = await loadInstrumentsInChild(dir);
    process.stderr.write(` ${lap()}\n`);
    const scenarios: ScenarioResult[] = [];
    let httpClients: HttpClientsResult | undefined;
    if (a.market !== 'only') {
      process.stderr.write('HTTP clients (child process)…');
      httpClients = await runChild<HttpClientsResult>('http-clients.ts', ['3000']);
      process.stderr.write(` ${lap()}: the floor sends with ${httpClients.fastest}\n`);
    }
    const runs = a.market === 'only' ? [] : [...a.followers.map((n) => ({ n, neighbour: false })), ...(a.neighbourFollowers > 0 ? [{ n: a.neighbourFollowers, neighbour: true }] : [])];
    for (const { n, neighbour } of runs) {
      process.stderr.write(`${n} follower(s)${neighbour ? ' beside a CPU-hungry neighbour' : ''}: tandem…`);
      const busy = neighbour ? await startNeighbour() : null;
      const settleS = !neighbour && n === Math.max(...a.followers) ? a.settleS : 0;
      if (settleS) process.stderr.write(` (then idle ${settleS} s)`);
      const tandem = await runTandem(n, a.workload, inst.dbPath, a.dbDir, settleS).finally(() => busy?.stop());
      process.stderr.write(` ${lap()}, floor…`);
      const busy2 = neighbour ? await startNeighbour() : null;
      const floor = await runFloor(n, a.workload, tandem.plan, httpClients!.fastest).finally(() => busy2?.stop());
      process.stderr.write(` ${lap()}\n`);
      scenarios.push({ followers: n, floor, tandem, neighbour });
    }
    let market;
    if (a.market !== 'off') {
      process.stderr.write('MARKET entries, value gate or not (1 follower, 2 tandem processes)…');
      market = await runMarketEntry(a.marketKnobs, inst.dbPath, a.dbDir);
      process.stderr.write(` ${lap()}\n`);
    }
    const { dbPath: _db, ...instruments } = inst;
    const partial: Omit<Results, 'targets' | 'figures'> = {
      engine: `the real process, started as the Docker image starts it (${IMAGE_COMMAND}; dist/ built first), fake brokers in the bench process over loopback`,
      machine: m,
      workload: { ...a.workload, followerOrdersPerSecond: FOLLOWER_ORDERS_PER_SECOND, fakeRateLimit: 'off', periodicReconcile: 'off' },
      benchRssAtStartMb,
      loadAvgAtEnd: loadAvg1(),
      elapsedS: (performance.now() - started) / 1000,
      instruments: { ...instruments, fileRows: SCRIP_ROWS, measuredIn: 'child process' },
      scenarios,
      rssAfterRunsMb: maxOrNaN(scenarios.map((s) => s.tandem.rssAfterMb)),
      steadyRssMb: maxOrNaN(scenarios.map((s) => s.tandem.rssSettledMb ?? Number.NaN).filter(Number.isFinite)),
      ...(httpClients ? { httpClients } : {}),
      ...(market ? { market } : {}),
    };
    const results: Results = { ...partial, targets: targets(partial).filter((x) => Number.isFinite(x.value)), figures: figures(partial) };
    console.log(render(results));
    if (a.json) {
      writeFileSync(a.json, `${JSON.stringify(results, null, 2)}\n`);
      console.log(`\nresults written to ${a.json}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

function maxOrNaN(xs: number[]): number {
  return xs.length ? Math.max(...xs) : Number.NaN;
}
