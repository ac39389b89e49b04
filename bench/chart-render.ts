/**
 * `npx tsx bench/chart-render.ts [--write]` — how long the /pnl pictures take to draw (first one in
 * a fresh process, import included, then the median of 20), from a made-up but real-shaped day: a
 * leader trading NIFTY options and three followers copying it at their ratios with a little
 * slippage, P&L computed by the same domain functions Control.pnl uses. `--write` also saves the
 * pictures as docs/pnl-today.png and docs/pnl-week.png (the README's).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pnlOf, pnlSeries, type FillLike } from '../src/domain/pnl.js';
import { IST_OFFSET_MS } from '../src/domain/time.js';
import type { PnlRow } from '../src/bot/chart-pnl.js';

const t0 = performance.now();
const { renderPnlChart } = await import('../src/bot/chart-pnl.js');

/** Epoch ms of HH:MM IST on Friday 6 Nov 2026, `days` later. */
const at = (h: number, m: number, days = 0) => Date.UTC(2026, 10, 6 + days) - IST_OFFSET_MS + (h * 60 + m) * 60_000;
const NOW = at(15, 45);

/** The leader's trades of one day: [HH, MM, side, lots, premium, strike]. */
const TRADES: [number, number, 'BUY' | 'SELL', number, number, string][] = [
  [9, 21, 'BUY', 4, 112.5, 'CE24500'],
  [9, 48, 'SELL', 2, 131.0, 'CE24500'],
  [10, 26, 'SELL', 2, 98.4, 'CE24500'],
  [11, 5, 'BUY', 8, 84.0, 'PE24400'],
  [11, 52, 'SELL', 4, 103.2, 'PE24400'],
  [12, 40, 'SELL', 4, 121.6, 'PE24400'],
  [13, 18, 'BUY', 4, 76.3, 'CE24600'],
  [14, 2, 'SELL', 4, 61.8, 'CE24600'],
  [14, 35, 'BUY', 8, 95.1, 'PE24350'],
  [15, 12, 'SELL', 8, 118.9, 'PE24350'],
];
const LOT = 75;
const FOLLOWERS: [string, number, number][] = [
  ['mom', 0.5, 0.4],
  ['dad', 1, 0.9],
  ['sis', 2, 1.6],
];
/** Each day's luck: added to the exit premiums (₹), so some days are red. */
const EDGE: Record<number, number> = { [-4]: -9, [-3]: 4, [-2]: -14, [-1]: 7, 0: 0 };

/** One day's fills for an account: `ratio` of the leader's lots, `slip` ₹ worse, a second later. */
function fillsOf(day: number, ratio: number, slip: number): FillLike[] {
  return TRADES.map(([h, m, side, lots, price, strike]) => ({
    at: at(h, m, day) + (slip === 0 ? 0 : 1000),
    side,
    qty: lots * ratio * LOT,
    price: side === 'BUY' ? price + slip : price + (EDGE[day] ?? 0) - slip,
    key: `NSE_FNO:${day}:${strike}`,
  }));
}

function rows(days: number[]): PnlRow[] {
  const accounts: [string, number, number][] = [['leader', 1, 0], ...FOLLOWERS];
  const fills = new Map(accounts.map(([a, ratio, slip]) => [a, days.flatMap((d) => fillsOf(d, ratio, slip))]));
  const marks = [...fills.values()].flat();
  return accounts.map(([a]) => {
    const own = fills.get(a)!;
    return { account: a, pnl: pnlOf(own), series: pnlSeries(own, marks) };
  });
}

const today = rows([0]);
const week = rows([-4, -3, -2, -1, 0].filter((d) => ![0, 6].includes(new Date(at(12, 0, d) + IST_OFFSET_MS).getUTCDay())));
let day = renderPnlChart('today', today, NOW);
const cold = performance.now() - t0;
const times: number[] = [];
for (let i = 0; i < 20; i++) {
  const a = performance.now();
  day = renderPnlChart('today', today, NOW);
  times.push(performance.now() - a);
}
const w = renderPnlChart('week', week, NOW);
times.sort((a, b) => a - b);
console.log(`day chart 1200×675: first ${cold.toFixed(0)} ms (import included), then median ${times[10]!.toFixed(1)} ms, p90 ${times[18]!.toFixed(1)} ms; PNG ${(day.png.length / 1024).toFixed(0)} KiB`);
if (process.argv.includes('--write')) {
  const docs = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
  writeFileSync(join(docs, 'pnl-today.png'), day.png);
  writeFileSync(join(docs, 'pnl-week.png'), w.png);
  console.log(`wrote ${join(docs, 'pnl-today.png')} and pnl-week.png`);
}
