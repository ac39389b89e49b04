/**
 * The one entry gate (ARCHITECTURE invariant 10), table-driven: a new entry and an increase of an
 * existing copy are judged the same way — sizing, MAX_LOTS, MAX_ORDER_VALUE, approval by value and
 * by lots (on the whole position after the change), freeze slicing of what is added.
 */
import { describe, expect, it } from 'vitest';
import type { FollowerConfig } from '../../src/config.js';
import { gateEntry, valueGated, type GateInput } from '../../src/engine/entry-gate.js';
import { FollowerRuntime } from '../../src/engine/follower.js';
import type { Broker } from '../../src/brokers/port.js';
import { DEFAULT_RULES } from '../../src/domain/rules.js';

function follower(cfg: Partial<FollowerConfig> = {}): FollowerRuntime {
  const full: FollowerConfig = { id: 'f1', broker: 'paper', credentials: {} as FollowerConfig['credentials'], sizing: 'ratio', ratio: 1, fixedLots: 1, maxLots: null, maxOrderValue: null, ordersPerSecond: 10, rules: DEFAULT_RULES, ...cfg };
  return new FollowerRuntime(full, {} as Broker);
}

const LOT = 75;
const at = (price: number) => ({ price, source: 'limit price' });
const base = (over: Partial<GateInput> = {}): GateInput => ({
  follower: follower(),
  ratioOverride: undefined,
  leaderFunds: null,
  leaderQty: LOT,
  lotSize: LOT,
  price: at(120),
  freeze: 1800,
  already: 0,
  approval: { thresholdInr: 100_000, lotsAbove: null },
  ...over,
});

describe('gateEntry', () => {
  it.each<{ name: string; input: Partial<GateInput>; total: number; add: number; slices: number[]; wait: RegExp | null }>([
    { name: 'a new 1-lot entry under the threshold goes', input: {}, total: LOT, add: LOT, slices: [LOT], wait: null },
    { name: 'a new 20-lot entry above it waits, its value said', input: { leaderQty: 20 * LOT }, total: 20 * LOT, add: 20 * LOT, slices: [20 * LOT], wait: /₹1,80,000 is above the ₹1,00,000/ },
    { name: 'a raise from 1 lot to 20 waits for the 19 added (the whole position is judged)', input: { leaderQty: 20 * LOT, already: LOT }, total: 20 * LOT, add: 19 * LOT, slices: [19 * LOT], wait: /above the ₹1,00,000/ },
    { name: 'a raise that stays under the threshold goes', input: { leaderQty: 5 * LOT, already: LOT }, total: 5 * LOT, add: 4 * LOT, slices: [4 * LOT], wait: null },
    { name: 'a decrease adds nothing and never waits', input: { leaderQty: 20 * LOT, already: 30 * LOT }, total: 20 * LOT, add: -10 * LOT, slices: [], wait: null },
    { name: 'an unknown value waits, and says why', input: { price: null, noPriceWhy: 'no leader fill within 300 ms' }, total: LOT, add: LOT, slices: [LOT], wait: /value unknown \(no leader fill within 300 ms\)/ },
    { name: 'approval by lots judges the total too', input: { approval: { thresholdInr: null, lotsAbove: 5 }, leaderQty: 6 * LOT, already: 5 * LOT }, total: 6 * LOT, add: LOT, slices: [LOT], wait: /6 lots, above the 5-lot/ },
    { name: 'what is added is freeze-sliced', input: { approval: undefined, leaderQty: 40 * LOT, already: LOT }, total: 40 * LOT, add: 39 * LOT, slices: [23 * LOT, 16 * LOT], wait: null },
    { name: 'MAX_LOTS caps an increase', input: { follower: follower({ maxLots: 3 }), leaderQty: 20 * LOT, already: LOT }, total: 3 * LOT, add: 2 * LOT, slices: [2 * LOT], wait: null },
    { name: 'MAX_ORDER_VALUE caps an increase', input: { follower: follower({ maxOrderValue: 40_000 }), approval: undefined, leaderQty: 20 * LOT, already: LOT }, total: 4 * LOT, add: 3 * LOT, slices: [3 * LOT], wait: null },
    { name: 'the ratio sizes the total', input: { follower: follower({ ratio: 0.5 }), leaderQty: 4 * LOT, already: LOT }, total: 2 * LOT, add: LOT, slices: [LOT], wait: null },
  ])('$name', ({ input, total, add, slices, wait }) => {
    const g = gateEntry(base(input));
    expect(g.ok).toBe(true);
    if (!g.ok) return;
    expect({ total: g.total, add: g.add, slices: g.slices }).toEqual({ total, add, slices });
    if (wait) expect(g.wait).toMatch(wait);
    else expect(g.wait).toBeNull();
  });

  it('MAX_ORDER_VALUE with no price refuses, naming why no price is known', () => {
    const g = gateEntry(base({ follower: follower({ maxOrderValue: 40_000 }), price: null, noPriceWhy: 'quotes: leader: refuses market data' }));
    expect(g).toEqual({ ok: false, reason: 'no price known to check the max order value (quotes: leader: refuses market data)' });
  });

  it('a value gate is set by the threshold or by any follower cap, not by the lots rule alone', () => {
    expect(valueGated({ thresholdInr: 1, lotsAbove: null }, [follower()])).toBe(true);
    expect(valueGated({ thresholdInr: null, lotsAbove: 5 }, [follower()])).toBe(false);
    expect(valueGated(undefined, [follower(), follower({ maxOrderValue: 10 })])).toBe(true);
    expect(valueGated(undefined, [])).toBe(false);
  });
});
