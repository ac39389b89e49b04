/**
 * The stale-child rule's decisions (issue 17): when N seconds after the leader's fill have passed,
 * what keep / cancel / chase ask, that a chase happens at most three times N seconds apart, and the
 * chase price — ticks in the copy's direction, on the tick, capped at 2 % from the reference.
 */
import { describe, expect, it } from 'vitest';
import { chasePrice, FRESH, unfilledDecision } from '../../src/domain/unfilled.js';

const T0 = 1_800_000_000_000;
const S = 1000;

describe('unfilledDecision', () => {
  it('keep, or no N: nothing, ever', () => {
    expect(unfilledDecision('keep', 30, T0, T0 + 3600 * S, FRESH)).toEqual({ kind: 'none' });
    expect(unfilledDecision('cancel', null, T0, T0 + 3600 * S, FRESH)).toEqual({ kind: 'none' });
  });

  it('waits while the leader has not filled, and until N seconds after its fill', () => {
    expect(unfilledDecision('cancel', 30, null, T0 + 3600 * S, FRESH)).toEqual({ kind: 'wait' });
    expect(unfilledDecision('cancel', 30, T0, T0 + 29_999, FRESH)).toEqual({ kind: 'wait' });
    expect(unfilledDecision('cancel', 30, T0, T0 + 30 * S, FRESH)).toEqual({ kind: 'cancel' });
    expect(unfilledDecision('cancel', 30, T0, T0 + 30 * S, { ...FRESH, done: true })).toEqual({ kind: 'none' });
  });

  it('chase: attempts 1, 2, 3 each N seconds after the one before, then leave', () => {
    expect(unfilledDecision('chase', 10, T0, T0 + 10 * S, FRESH)).toEqual({ kind: 'chase', attempt: 1 });
    const after1 = { chases: 1, lastChaseAt: T0 + 10 * S, done: false };
    expect(unfilledDecision('chase', 10, T0, T0 + 19 * S, after1)).toEqual({ kind: 'wait' });
    expect(unfilledDecision('chase', 10, T0, T0 + 20 * S, after1)).toEqual({ kind: 'chase', attempt: 2 });
    const after3 = { chases: 3, lastChaseAt: T0 + 30 * S, done: false };
    expect(unfilledDecision('chase', 10, T0, T0 + 39 * S, after3)).toEqual({ kind: 'wait' });
    expect(unfilledDecision('chase', 10, T0, T0 + 40 * S, after3)).toEqual({ kind: 'leave' });
    expect(unfilledDecision('chase', 10, T0, T0 + 40 * S, { ...after3, done: true })).toEqual({ kind: 'none' });
  });
});

describe('chasePrice', () => {
  it('a buy goes 2, 4, 6 ticks above the reference, on the tick', () => {
    expect(chasePrice({ side: 'BUY', current: 120, reference: 120, tick: 0.05, attempt: 1 })).toBe(120.1);
    expect(chasePrice({ side: 'BUY', current: 120.1, reference: 120, tick: 0.05, attempt: 2 })).toBe(120.2);
    expect(chasePrice({ side: 'BUY', current: 120.2, reference: 120, tick: 0.05, attempt: 3 })).toBe(120.3);
    // An off-tick reference rounds away from the market (up for a buy).
    expect(chasePrice({ side: 'BUY', current: 100, reference: 118.12, tick: 0.05, attempt: 1 })).toBe(118.25);
  });

  it('a sell goes below, rounded down', () => {
    expect(chasePrice({ side: 'SELL', current: 120, reference: 120, tick: 0.05, attempt: 1 })).toBe(119.9);
    expect(chasePrice({ side: 'SELL', current: 125, reference: 118.12, tick: 0.05, attempt: 2 })).toBe(117.9);
  });

  it('always at least one tick beyond the current limit', () => {
    // The limit is already above the reference: one tick more.
    expect(chasePrice({ side: 'BUY', current: 121, reference: 120, tick: 0.05, attempt: 1 })).toBe(121.05);
    expect(chasePrice({ side: 'SELL', current: 119, reference: 120, tick: 0.05, attempt: 1 })).toBe(118.95);
  });

  it('capped at 2 % from the reference; at the cap, null (nothing more to chase)', () => {
    expect(chasePrice({ side: 'BUY', current: 122.35, reference: 120, tick: 0.05, attempt: 3 })).toBe(122.4);
    expect(chasePrice({ side: 'BUY', current: 122.4, reference: 120, tick: 0.05, attempt: 3 })).toBeNull();
    expect(chasePrice({ side: 'SELL', current: 117.6, reference: 120, tick: 0.05, attempt: 3 })).toBeNull();
    // A coarse tick (₹1) wider than the band on a cheap price: nothing within it.
    expect(chasePrice({ side: 'BUY', current: 10, reference: 10, tick: 1, attempt: 1 })).toBeNull();
  });

  it('no reference price or tick: null', () => {
    expect(chasePrice({ side: 'BUY', current: 10, reference: 0, tick: 0.05, attempt: 1 })).toBeNull();
    expect(chasePrice({ side: 'BUY', current: 10, reference: 10, tick: 0, attempt: 1 })).toBeNull();
  });
});
