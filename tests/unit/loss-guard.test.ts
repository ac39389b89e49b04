/**
 * The daily loss limit's decision (issue 17): today's realised + open P&L of the follower's own
 * trading against −limit — under, at and over it, realised and open together, a carried position
 * not counted, no price → entries fail closed, the stop kept over a restart and cleared the next
 * day, one alert, and with `flatten` the flatten run once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/brokers/port.js';
import type { FollowerConfig } from '../../src/config.js';
import type { Side } from '../../src/domain/order.js';
import { dayPnl, todaysLots } from '../../src/domain/pnl.js';
import { DEFAULT_RULES, type FollowerRules } from '../../src/domain/rules.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { FollowerRuntime } from '../../src/engine/follower.js';
import type { FlattenResult } from '../../src/engine/kill-switch.js';
import { LossGuard, markFreshness, stopReason } from '../../src/engine/loss-guard.js';
import { PositionBook } from '../../src/engine/positions.js';
import { ManualClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { PriceBoard } from '../../src/infra/price-board.js';
import { Store } from '../../src/store/index.js';
import { tempDbPath } from '../e2e/harness.js';

// Tuesday 10 March 2026, 10:00 IST.
const T0 = Date.UTC(2026, 2, 10, 4, 30);
const CE = { segment: 'NSE_FNO' as const, securityId: '61345', symbol: 'NIFTY 26000 CE' };
const PE = { segment: 'NSE_FNO' as const, securityId: '61346', symbol: 'NIFTY 26000 PE' };

interface World {
  store: Store;
  clock: ManualClock;
  prices: PriceBoard;
  positions: PositionBook;
  guard: LossGuard;
  events: EngineEvent[];
  flattens: string[];
  fill: (i: typeof CE, side: Side, qty: number, price: number) => void;
  restart: () => LossGuard;
}

const open: Store[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function world(rules: Partial<FollowerRules>, path = tempDbPath(), clock = new ManualClock(T0)): World {
  const store = Store.open(path);
  open.push(store);
  const prices = new PriceBoard();
  const positions = new PositionBook();
  const events: EngineEvent[] = [];
  const flattens: string[] = [];
  const cfg: FollowerConfig = { id: 'f1', broker: 'paper', credentials: {} as FollowerConfig['credentials'], sizing: 'ratio', ratio: 1, fixedLots: 1, maxLots: null, maxOrderValue: null, ordersPerSecond: 10, rules: { ...DEFAULT_RULES, ...rules } };
  const f = new FollowerRuntime(cfg, { kind: 'paper', accountId: 'f1' } as Broker);
  const make = () =>
    new LossGuard({
      store,
      positions,
      prices,
      clock,
      log: createLogger({ level: 'silent' }),
      events: { emit: (e) => events.push(e) },
      followers: new Map([['f1', f]]),
      leader: { kind: 'paper', accountId: 'leader' } as Broker,
      leaderBroker: () => 'paper',
      rules: () => cfg.rules,
      flatten: async (id): Promise<FlattenResult> => {
        flattens.push(id);
        return { batch: 'flatten-x', placed: [], cancelled: [], notCancelled: [], unread: [] };
      },
    });
  const w: World = {
    store,
    clock,
    prices,
    positions,
    guard: make(),
    events,
    flattens,
    fill: (i, side, qty, price) => {
      const n = store.fills.since('f1', 0).length + 1;
      store.fills.record({ accountId: 'f1', orderId: `o${n}`, cumulativeQty: qty, qty, price, side, segment: i.segment, securityId: i.securityId, symbol: i.symbol, product: 'MARGIN', at: clock.now() });
      positions.add('f1', i, 'MARGIN', side === 'BUY' ? qty : -qty);
      if (price > 0) prices.publish(i, price);
      w.guard.onFill('f1');
    },
    restart: () => (w.guard = make()),
  };
  return w;
}

const alerts = (w: World) => w.events.filter((e) => e.type === 'error');

describe('the P&L it counts (domain/pnl.ts)', () => {
  const fill = (key: string, side: Side, qty: number, price: number, at = 1) => ({ key, side, qty, price, at });

  it('realised and open together; a sale of carried quantity is left out, not taken for a short', () => {
    // Carried long 75 sold today at 100, then a round trip of today's own: buy 75 @ 200, sell @ 150.
    const fills = [fill('A', 'SELL', 75, 100), fill('A', 'BUY', 75, 200), fill('A', 'SELL', 75, 150), fill('B', 'BUY', 50, 10)];
    const carried = (k: string) => (k === 'A' ? 75 : 0);
    expect(todaysLots(fills, carried).map((f) => [f.key, f.side, f.qty])).toEqual([
      ['A', 'BUY', 75],
      ['A', 'SELL', 75],
      ['B', 'BUY', 50],
    ]);
    const r = dayPnl(fills, carried, (k) => (k === 'B' ? { price: 4, at: 9 } : { price: 999, at: 9 }));
    // Realised (150 − 200) × 75 = −3,750; open B (4 − 10) × 50 = −300. A's mark (999) does not matter: A is flat.
    expect(r.pnl).toBe(-4050);
    expect(r.open).toEqual([{ key: 'B', qty: 50, mark: { price: 4, at: 9 } }]);
    expect(r.oldestMarkAt).toBe(9);
  });

  it('a reducing fill closes today’s own quantity before the carried one; the rest opens a new position', () => {
    const fills = [fill('A', 'BUY', 10, 100), fill('A', 'SELL', 30, 90), fill('A', 'SELL', 40, 80)];
    // Carried 50: the first sell closes today's 10 (counted) and 20 carried; the second closes 30 carried and opens a 10 short.
    expect(todaysLots(fills, () => 50).map((f) => [f.side, f.qty, f.price])).toEqual([
      ['BUY', 10, 100],
      ['SELL', 10, 90],
      ['SELL', 10, 80],
    ]);
    expect(dayPnl(fills, () => 50, () => ({ price: 70, at: 5 })).pnl).toBe(-100 + 100);
  });

  it('an open position with no price anywhere has no P&L', () => {
    const r = dayPnl([fill('A', 'BUY', 10, 0)], () => 0, () => null);
    expect(r.pnl).toBeNull();
    expect(r.open).toEqual([{ key: 'A', qty: 10, mark: null }]);
  });
});

describe('LossGuard', () => {
  it('under the limit: entries go, headroom shown; at it: stopped, with the reason; one alert however often it is asked', () => {
    const w = world({ maxDailyLossInr: 25_000 });
    expect(w.guard.entryBlock('f1')).toBeNull();
    expect(w.guard.status('f1')).toMatchObject({ pnlInr: 0, limitInr: 25_000, headroomInr: 25_000, stopped: false, markAgeMs: null, why: null });
    w.fill(CE, 'BUY', 100, 300);
    w.prices.publish(CE, 50.01); // −24,999
    expect(w.guard.entryBlock('f1')).toBeNull();
    expect(w.guard.status('f1')!.headroomInr).toBeCloseTo(1, 6);
    w.prices.publish(CE, 50); // exactly −25,000
    expect(w.guard.entryBlock('f1')).toBe(stopReason(-25_000, 25_000));
    expect(w.guard.entryBlock('f1')).toBe('loss limit: -₹25,000 ≤ -₹25,000 today; entries stopped until the next trading day');
    expect(w.guard.status('f1')).toMatchObject({ stopped: true, pnlInr: -25_000, headroomInr: 0 });
    // It stays stopped when the price comes back, and the alert was sent once.
    w.prices.publish(CE, 400);
    w.guard.entryBlock('f1');
    w.guard.status('f1');
    expect(w.guard.entryBlock('f1')).toMatch(/^loss limit: -₹25,000/);
    expect(alerts(w)).toHaveLength(1);
    expect(alerts(w)[0]).toMatchObject({ accountId: 'f1', message: expect.stringContaining('Loss limit reached: P&L today -₹25,000 ≤ -₹25,000') });
    expect(w.flattens).toEqual([]);
  });

  it('over the limit by realised and open together, neither alone; a fill trips it at once', () => {
    const w = world({ maxDailyLossInr: 10_000 });
    w.fill(CE, 'BUY', 75, 200);
    w.fill(CE, 'SELL', 75, 100); // realised −7,500
    w.fill(PE, 'BUY', 75, 100);
    expect(w.guard.entryBlock('f1')).toBeNull();
    w.fill(PE, 'SELL', 0 + 1, 59); // 1 unit sold at 59 marks PE at 59: open 74 × −41 = −3,034, realised −41
    expect(w.guard.status('f1')!.pnlInr).toBeCloseTo(-7_500 - 41 - 74 * 41, 6);
    expect(w.guard.entryBlock('f1')).toBe('loss limit: -₹10,575 ≤ -₹10,000 today; entries stopped until the next trading day');
    expect(alerts(w)).toHaveLength(1);
  });

  it('a carried position sold today is not a loss when the price rises after the sale', () => {
    const w = world({ maxDailyLossInr: 1_000 });
    w.positions.reset('f1', [{ ...CE, product: 'MARGIN', qty: 75 }], []);
    w.fill(CE, 'SELL', 75, 100);
    w.prices.publish(CE, 300);
    expect(w.guard.status('f1')).toMatchObject({ pnlInr: 0, stopped: false });
    expect(w.guard.entryBlock('f1')).toBeNull();
  });

  it('an open position with no price fails closed for entries, with the reason, until a price is seen', () => {
    const w = world({ maxDailyLossInr: 5_000 });
    w.fill(CE, 'BUY', 75, 0);
    expect(w.guard.entryBlock('f1')).toBe('loss limit cannot be checked: no price seen for NIFTY 26000 CE (75); entries held until one is seen');
    const s = w.guard.status('f1')!;
    expect(s).toMatchObject({ pnlInr: null, headroomInr: null, stopped: false, markAgeMs: null });
    expect(markFreshness(s)).toBe('no price for an open position');
    w.prices.publish(CE, 120);
    w.clock.advance(12_000);
    expect(w.guard.entryBlock('f1')).toBeNull();
    // (The fill itself carried no price, so its cost counts as 0: 75 × 120.)
    expect(w.guard.status('f1')).toMatchObject({ pnlInr: 9_000, markAgeMs: 12_000 });
    expect(markFreshness(w.guard.status('f1')!)).toBe('marks up to 12 s old');
    expect(alerts(w)).toEqual([]);
  });

  it('the stop survives a restart and clears on the next day; no limit means no block', () => {
    const w = world({ maxDailyLossInr: 1_000 });
    w.fill(CE, 'BUY', 10, 500);
    w.prices.publish(CE, 300);
    expect(w.guard.entryBlock('f1')).toMatch(/^loss limit: -₹2,000 ≤ -₹1,000 today/);
    // After a restart the stop holds, even with the price back above the fill.
    w.guard.stop();
    w.restart();
    w.prices.publish(CE, 600);
    expect(w.guard.status('f1')).toMatchObject({ stopped: true, pnlInr: 1_000 });
    expect(w.guard.entryBlock('f1')).toMatch(/^loss limit: -₹2,000 ≤ -₹1,000 today/);
    expect(alerts(w)).toHaveLength(1);
    // The next trading day: yesterday's fills do not count, the stop is gone.
    w.clock.advance(24 * 3600_000);
    expect(w.guard.entryBlock('f1')).toBeNull();
    expect(w.guard.status('f1')).toMatchObject({ stopped: false, pnlInr: 0 });
    expect(world({ maxDailyLossInr: null }).guard.entryBlock('f1')).toBeNull();
    expect(world({ maxDailyLossInr: null }).guard.status('f1')).toBeNull();
  });

  it('with flatten: the flatten run once, its result alerted; not again after a restart', async () => {
    const w = world({ maxDailyLossInr: 1_000, onMaxLoss: 'flatten' });
    w.fill(CE, 'BUY', 75, 100);
    w.prices.publish(CE, 80);
    expect(w.guard.entryBlock('f1')).toMatch(/^loss limit: -₹1,500/);
    w.guard.entryBlock('f1');
    w.fill(CE, 'SELL', 75, 70);
    await new Promise((r) => setImmediate(r));
    expect(w.flattens).toEqual(['f1']);
    expect(alerts(w).map((e) => (e as { message: string }).message)).toEqual([
      expect.stringContaining('ON_MAX_LOSS=flatten: cancelling its working copies and closing its positions at market now.'),
      expect.stringContaining('Loss-limit flatten of f1: no open position to close'),
    ]);
    w.restart();
    w.prices.publish(CE, 10);
    w.guard.entryBlock('f1');
    await new Promise((r) => setImmediate(r));
    expect(w.flattens).toEqual(['f1']);
    expect(alerts(w)).toHaveLength(2);
  });
});
