import { describe, expect, it } from 'vitest';
import {
  effectiveRatio,
  floorLots,
  sizeEntry,
  sizeExit,
  splitEntryExit,
  type Caps,
  type SizingPolicy,
} from '../../src/domain/sizing.js';

const ratio = (r: number): SizingPolicy => ({ kind: 'ratio', ratio: r });

describe('floorLots', () => {
  it.each([
    { x: 0, expected: 0 },
    { x: 2.9999999999999996, expected: 3 }, // binary-float noise just below a whole number
    { x: 0.1 * 30, expected: 3 },
    { x: 0.29 * 100, expected: 29 }, // 28.999999999999996
    { x: 2.5, expected: 2 },
    { x: 2.999, expected: 2 }, // a real shortfall is not noise
    { x: 0.99, expected: 0 },
    { x: -1, expected: 0 },
    { x: -0.5, expected: 0 },
  ])('floorLots($x) = $expected', ({ x, expected }) => {
    expect(floorLots(x)).toBe(expected);
  });
});

describe('effectiveRatio', () => {
  it.each<{ policy: SizingPolicy; expected: number | null }>([
    { policy: ratio(0.5), expected: 0.5 },
    { policy: { kind: 'capital', followerCapital: 50_000, leaderCapital: 200_000, multiplier: 1 }, expected: 0.25 },
    { policy: { kind: 'capital', followerCapital: 50_000, leaderCapital: 200_000, multiplier: 2 }, expected: 0.5 },
    { policy: { kind: 'capital', followerCapital: 50_000, leaderCapital: 0, multiplier: 1 }, expected: null },
    { policy: { kind: 'capital', followerCapital: 50_000, leaderCapital: -5, multiplier: 1 }, expected: null },
    { policy: { kind: 'fixed_lots', lots: 3 }, expected: null },
  ])('$policy.kind → $expected', ({ policy, expected }) => {
    if (expected === null) expect(effectiveRatio(policy)).toBeNull();
    else expect(effectiveRatio(policy)).toBeCloseTo(expected, 12);
  });
});

type EntryCase = {
  name: string;
  leaderQty: number;
  lotSize: number;
  price: number | null;
  policy: SizingPolicy;
  caps?: Caps;
  lots?: number;
  quantity?: number;
  notional?: number | null;
  note?: RegExp | null;
  reason?: RegExp;
};

const entryCases: EntryCase[] = [
  { name: 'ratio 0.5 of 2 lots → 1 lot', leaderQty: 150, lotSize: 75, price: 100, policy: ratio(0.5), lots: 1, quantity: 75, notional: 7500, note: null },
  { name: 'ratio 1 of 3 lots → 3 lots', leaderQty: 225, lotSize: 75, price: 10, policy: ratio(1), lots: 3, quantity: 225, notional: 2250, note: null },
  { name: 'ratio 2 on equity (lot 1)', leaderQty: 10, lotSize: 1, price: 250.5, policy: ratio(2), lots: 20, quantity: 20, notional: 5010, note: null },
  { name: '1 lot × 0.5 → skipped, rounds to 0 lots', leaderQty: 75, lotSize: 75, price: 100, policy: ratio(0.5), reason: /0 lots/ },
  { name: 'float noise: 0.1 × 30 lots = 3 lots', leaderQty: 30 * 50, lotSize: 50, price: 20, policy: ratio(0.1), lots: 3, quantity: 150, notional: 3000, note: null },
  { name: 'float noise: 0.29 × 100 lots = 29 lots', leaderQty: 100 * 15, lotSize: 15, price: 1, policy: ratio(0.29), lots: 29, quantity: 435, notional: 435, note: null },
  { name: 'fractional result floors: 0.5 × 3 lots = 1 lot', leaderQty: 75, lotSize: 25, price: null, policy: ratio(0.5), lots: 1, quantity: 25, notional: null, note: null },
  { name: 'lot size 0 is treated as 1', leaderQty: 7, lotSize: 0, price: 2, policy: ratio(1), lots: 7, quantity: 7, notional: 14, note: null },
  { name: 'unknown price without a value cap sizes with no notional', leaderQty: 100, lotSize: 50, price: null, policy: ratio(1), lots: 2, quantity: 100, notional: null, note: null },
  { name: 'price 0 (market order) counts as unknown', leaderQty: 100, lotSize: 50, price: 0, policy: ratio(1), lots: 2, quantity: 100, notional: null, note: null },
  // caps: max lots
  { name: 'maxLots caps and notes it', leaderQty: 500, lotSize: 50, price: 10, policy: ratio(1), caps: { maxLots: 4 }, lots: 4, quantity: 200, notional: 2000, note: /max 4 lot.*wanted 10/ },
  { name: 'maxLots equal to the size does not cap', leaderQty: 200, lotSize: 50, price: 10, policy: ratio(1), caps: { maxLots: 4 }, lots: 4, quantity: 200, notional: 2000, note: null },
  { name: 'maxLots null is no cap', leaderQty: 500, lotSize: 50, price: 10, policy: ratio(1), caps: { maxLots: null, maxOrderValue: null }, lots: 10, quantity: 500, notional: 5000, note: null },
  { name: 'maxLots 0 → skipped', leaderQty: 100, lotSize: 50, price: 10, policy: ratio(1), caps: { maxLots: 0 }, reason: /max lots is 0/ },
  // caps: max order value
  { name: 'maxOrderValue reduces lots to fit', leaderQty: 500, lotSize: 50, price: 100, policy: ratio(1), caps: { maxOrderValue: 12_000 }, lots: 2, quantity: 100, notional: 10_000, note: /max order value ₹12000.*wanted 10/ },
  { name: 'maxOrderValue exactly met is not a breach', leaderQty: 100, lotSize: 50, price: 100, policy: ratio(1), caps: { maxOrderValue: 10_000 }, lots: 2, quantity: 100, notional: 10_000, note: null },
  { name: 'one lot exceeds the max order value → skipped', leaderQty: 100, lotSize: 50, price: 300, policy: ratio(1), caps: { maxOrderValue: 10_000 }, reason: /one lot \(₹15000\) exceeds the max order value ₹10000/ },
  { name: 'unknown price with a value cap → skipped', leaderQty: 100, lotSize: 50, price: null, policy: ratio(1), caps: { maxOrderValue: 10_000 }, reason: /no price known/ },
  { name: 'price 0 with a value cap → skipped', leaderQty: 100, lotSize: 50, price: 0, policy: ratio(1), caps: { maxOrderValue: 10_000 }, reason: /no price known/ },
  { name: 'both caps: maxLots first, then value', leaderQty: 1000, lotSize: 10, price: 100, policy: ratio(1), caps: { maxLots: 50, maxOrderValue: 25_000 }, lots: 25, quantity: 250, notional: 25_000, note: /max order value/ },
  { name: 'both caps: value already within after maxLots', leaderQty: 1000, lotSize: 10, price: 100, policy: ratio(1), caps: { maxLots: 5, maxOrderValue: 25_000 }, lots: 5, quantity: 50, notional: 5000, note: /max 5 lot/ },
  // capital policy
  { name: 'capital: follower ¼ of leader × 1 on 8 lots → 2', leaderQty: 8 * 25, lotSize: 25, price: 40, policy: { kind: 'capital', followerCapital: 250_000, leaderCapital: 1_000_000, multiplier: 1 }, lots: 2, quantity: 50, notional: 2000, note: null },
  { name: 'capital: multiplier 2 doubles it', leaderQty: 8 * 25, lotSize: 25, price: 40, policy: { kind: 'capital', followerCapital: 250_000, leaderCapital: 1_000_000, multiplier: 2 }, lots: 4, quantity: 100, notional: 4000, note: null },
  { name: 'capital: small follower rounds to 0 lots → skipped', leaderQty: 25, lotSize: 25, price: 40, policy: { kind: 'capital', followerCapital: 10_000, leaderCapital: 1_000_000, multiplier: 1 }, reason: /0 lots/ },
  { name: 'capital: leader capital unknown → skipped', leaderQty: 100, lotSize: 25, price: 40, policy: { kind: 'capital', followerCapital: 10_000, leaderCapital: 0, multiplier: 1 }, reason: /leader capital unknown/ },
  // fixed lots
  { name: 'fixed lots ignore the leader size', leaderQty: 25, lotSize: 25, price: 40, policy: { kind: 'fixed_lots', lots: 3 }, lots: 3, quantity: 75, notional: 3000, note: null },
  { name: 'fixed lots ignore a large leader size too', leaderQty: 2500, lotSize: 25, price: 40, policy: { kind: 'fixed_lots', lots: 1 }, lots: 1, quantity: 25, notional: 1000, note: null },
  { name: 'fixed lots are still capped by maxLots', leaderQty: 25, lotSize: 25, price: 40, policy: { kind: 'fixed_lots', lots: 5 }, caps: { maxLots: 2 }, lots: 2, quantity: 50, notional: 2000, note: /max 2 lot/ },
  { name: 'fixed 0 lots → skipped', leaderQty: 25, lotSize: 25, price: 40, policy: { kind: 'fixed_lots', lots: 0 }, reason: /0 lots/ },
];

describe('sizeEntry', () => {
  it.each(entryCases)('$name', (c) => {
    const r = sizeEntry({ leaderQty: c.leaderQty, lotSize: c.lotSize, price: c.price, policy: c.policy, caps: c.caps });
    if (c.reason) {
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.reason).toMatch(c.reason);
      return;
    }
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.lots).toBe(c.lots);
    expect(r.quantity).toBe(c.quantity);
    if (c.notional === null) expect(r.notional).toBeNull();
    else expect(r.notional).toBeCloseTo(c.notional as number, 6);
    if (c.note === null) expect(r.note).toBeNull();
    else if (c.note) expect(r.note).toMatch(c.note);
    // invariants of every successful entry
    expect(r.quantity % (c.lotSize > 0 ? c.lotSize : 1)).toBe(0);
    if (c.caps?.maxLots != null) expect(r.lots).toBeLessThanOrEqual(c.caps.maxLots);
    if (c.caps?.maxOrderValue != null) expect(r.notional as number).toBeLessThanOrEqual(c.caps.maxOrderValue + 1e-6);
  });

  it('reports the leader lots, ratio and raw result when rounding to 0', () => {
    const r = sizeEntry({ leaderQty: 75, lotSize: 75, price: 100, policy: ratio(0.5) });
    expect(r).toEqual({ ok: false, reason: 'rounds to 0 lots (leader 1 lot(s) × 0.5 = 0.5)' });
  });
});

type ExitCase = {
  name: string;
  leaderQty: number;
  leaderPosition: number;
  followerPosition: number;
  lotSize: number;
  quantity?: number;
  reason?: RegExp;
};

const exitCases: ExitCase[] = [
  { name: 'full close closes the whole follower position', leaderQty: 150, leaderPosition: 150, followerPosition: 75, lotSize: 75, quantity: 75 },
  { name: 'full close with odd follower holdings (rounding on the way in)', leaderQty: 200, leaderPosition: 200, followerPosition: 130, lotSize: 50, quantity: 130 },
  { name: 'leader sells more than it holds: follower closes all, no more', leaderQty: 300, leaderPosition: 200, followerPosition: 100, lotSize: 50, quantity: 100 },
  { name: 'leader position unknown (0) → close all', leaderQty: 50, leaderPosition: 0, followerPosition: 150, lotSize: 50, quantity: 150 },
  { name: 'half exit of 4 lots, follower 2 lots → 1 lot', leaderQty: 100, leaderPosition: 200, followerPosition: 100, lotSize: 50, quantity: 50 },
  { name: 'half exit, follower 3 lots → 1.5 floored to 1 lot', leaderQty: 100, leaderPosition: 200, followerPosition: 150, lotSize: 50, quantity: 50 },
  { name: 'equity partial exit floors shares', leaderQty: 33, leaderPosition: 100, followerPosition: 10, lotSize: 1, quantity: 3 },
  { name: 'leader exits 10%, follower 30 lots → 3 lots', leaderQty: 10, leaderPosition: 100, followerPosition: 30 * 25, lotSize: 25, quantity: 75 },
  { name: 'partial exit never exceeds holdings', leaderQty: 99, leaderPosition: 100, followerPosition: 70, lotSize: 50, quantity: 50 },
  { name: 'partial exit rounding to 0 lots → skipped', leaderQty: 50, leaderPosition: 200, followerPosition: 50, lotSize: 50, reason: /0 lots/ },
  { name: 'no holdings → skipped', leaderQty: 50, leaderPosition: 50, followerPosition: 0, lotSize: 50, reason: /no position/ },
  { name: 'negative holdings (wrong direction) → skipped', leaderQty: 50, leaderPosition: 50, followerPosition: -50, lotSize: 50, reason: /no position/ },
];

describe('sizeExit', () => {
  it.each(exitCases)('$name', (c) => {
    const r = sizeExit({ leaderQty: c.leaderQty, leaderPosition: c.leaderPosition, followerPosition: c.followerPosition, lotSize: c.lotSize });
    if (c.reason) {
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.reason).toMatch(c.reason);
      return;
    }
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.quantity).toBe(c.quantity);
    expect(r.lots).toBeCloseTo((c.quantity as number) / c.lotSize, 12);
    expect(r.quantity).toBeGreaterThan(0);
    expect(r.quantity).toBeLessThanOrEqual(c.followerPosition);
  });

  it('a sweep of partial exits never exceeds holdings and is whole lots', () => {
    const lotSize = 25;
    for (let followerLots = 1; followerLots <= 12; followerLots++) {
      for (let leaderPosition = 25; leaderPosition <= 300; leaderPosition += 25) {
        for (let leaderQty = 25; leaderQty < leaderPosition; leaderQty += 25) {
          const followerPosition = followerLots * lotSize;
          const r = sizeExit({ leaderQty, leaderPosition, followerPosition, lotSize });
          if (!r.ok) continue;
          expect(r.quantity).toBeLessThanOrEqual(followerPosition);
          expect(r.quantity % lotSize).toBe(0);
          // proportional, floored: never more than the leader's fraction
          expect(r.quantity / followerPosition).toBeLessThanOrEqual(leaderQty / leaderPosition + 1e-9);
        }
      }
    }
  });
});

describe('splitEntryExit', () => {
  it.each<{ side: 'BUY' | 'SELL'; qty: number; before: number; exitQty: number; entryQty: number; why: string }>([
    { side: 'BUY', qty: 50, before: 0, exitQty: 0, entryQty: 50, why: 'flat → pure entry' },
    { side: 'SELL', qty: 50, before: 0, exitQty: 0, entryQty: 50, why: 'flat short → pure entry' },
    { side: 'BUY', qty: 50, before: 100, exitQty: 0, entryQty: 50, why: 'adding to a long' },
    { side: 'SELL', qty: 50, before: -100, exitQty: 0, entryQty: 50, why: 'adding to a short' },
    { side: 'SELL', qty: 60, before: 100, exitQty: 60, entryQty: 0, why: 'partial exit of a long' },
    { side: 'SELL', qty: 100, before: 100, exitQty: 100, entryQty: 0, why: 'full exit of a long' },
    { side: 'SELL', qty: 100, before: 60, exitQty: 60, entryQty: 40, why: 'flip long → short through zero' },
    { side: 'BUY', qty: 100, before: -60, exitQty: 60, entryQty: 40, why: 'flip short → long through zero' },
    { side: 'BUY', qty: 30, before: -60, exitQty: 30, entryQty: 0, why: 'partial cover of a short' },
  ])('$side $qty with net $before: $why', ({ side, qty, before, exitQty, entryQty }) => {
    const r = splitEntryExit(side, qty, before);
    expect(r).toEqual({ exitQty, entryQty });
    expect(r.exitQty + r.entryQty).toBe(qty);
  });
});
