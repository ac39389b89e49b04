import { describe, expect, it } from 'vitest';
import { driftOf, inMarketHours, syncSteps } from '../../src/domain/drift.js';
import type { SizingPolicy } from '../../src/domain/sizing.js';

const ratio = (r: number): SizingPolicy => ({ kind: 'ratio', ratio: r });

describe('driftOf', () => {
  it.each([
    // leader, follower, lot, policy, target, drift
    { leader: 150, follower: 75, lot: 75, policy: ratio(0.5), target: 75, drift: false },
    { leader: 75, follower: 0, lot: 75, policy: ratio(0.5), target: 0, drift: false }, // 0.5 lot: rounding
    { leader: 75, follower: 75, lot: 75, policy: ratio(0.5), target: 0, drift: false }, // 0.5 lot the other way round
    { leader: 300, follower: 0, lot: 75, policy: ratio(0.5), target: 150, drift: true },
    { leader: 0, follower: 75, lot: 75, policy: ratio(1), target: 0, drift: true }, // leader flat, follower not
    { leader: -150, follower: 150, lot: 75, policy: ratio(1), target: -150, drift: true }, // wrong direction
    { leader: -150, follower: -150, lot: 75, policy: ratio(1), target: -150, drift: false },
    { leader: 10, follower: 3, lot: 1, policy: ratio(0.3), target: 3, drift: false },
    { leader: 10, follower: 1, lot: 1, policy: ratio(0.3), target: 3, drift: true },
    { leader: 150, follower: 75, lot: 75, policy: { kind: 'fixed_lots', lots: 1 } as SizingPolicy, target: 75, drift: false },
    { leader: 750, follower: 150, lot: 75, policy: { kind: 'fixed_lots', lots: 1 } as SizingPolicy, target: 75, drift: true },
    { leader: -75, follower: 0, lot: 75, policy: { kind: 'fixed_lots', lots: 2 } as SizingPolicy, target: -150, drift: true },
    { leader: 0, follower: 0, lot: 75, policy: { kind: 'fixed_lots', lots: 2 } as SizingPolicy, target: 0, drift: false },
    { leader: 300, follower: 150, lot: 75, policy: { kind: 'capital', followerCapital: 50_000, leaderCapital: 100_000, multiplier: 1 } as SizingPolicy, target: 150, drift: false },
  ])('leader $leader, follower $follower (lot $lot) → target $target, drift $drift', ({ leader, follower, lot, policy, target, drift }) => {
    const v = driftOf({ leaderNet: leader, followerNet: follower, lotSize: lot, policy });
    expect(v).toMatchObject({ ok: true, target, drift });
  });

  it('capital sizing without the leader capital cannot be judged, and says why', () => {
    const v = driftOf({ leaderNet: 150, followerNet: 0, lotSize: 75, policy: { kind: 'capital', followerCapital: 1, leaderCapital: 0, multiplier: 1 } });
    expect(v).toEqual({ ok: false, reason: expect.stringMatching(/leader capital unknown/) });
  });
});

describe('syncSteps', () => {
  it.each([
    { from: 0, to: 150, steps: [{ kind: 'entry', side: 'BUY', qty: 150 }] },
    { from: 150, to: 0, steps: [{ kind: 'exit', side: 'SELL', qty: 150 }] },
    { from: 300, to: 150, steps: [{ kind: 'exit', side: 'SELL', qty: 150 }] },
    { from: 75, to: 150, steps: [{ kind: 'entry', side: 'BUY', qty: 75 }] },
    { from: -75, to: -150, steps: [{ kind: 'entry', side: 'SELL', qty: 75 }] },
    { from: -150, to: -75, steps: [{ kind: 'exit', side: 'BUY', qty: 75 }] },
    { from: 150, to: -75, steps: [{ kind: 'exit', side: 'SELL', qty: 150 }, { kind: 'entry', side: 'SELL', qty: 75 }] },
    { from: -75, to: 150, steps: [{ kind: 'exit', side: 'BUY', qty: 75 }, { kind: 'entry', side: 'BUY', qty: 150 }] },
    { from: 150, to: 150, steps: [] },
  ])('$from → $to', ({ from, to, steps }) => {
    expect(syncSteps(from, to)).toEqual(steps);
  });
});

describe('inMarketHours', () => {
  // 2026-12-14 is a Monday. IST = UTC + 5:30.
  const ist = (d: string, hhmm: string) => Date.parse(`${d}T${hhmm}:00+05:30`);
  it.each([
    { at: ist('2026-12-14', '09:14'), open: false },
    { at: ist('2026-12-14', '09:15'), open: true },
    { at: ist('2026-12-14', '12:00'), open: true },
    { at: ist('2026-12-14', '15:30'), open: true },
    { at: ist('2026-12-14', '15:31'), open: false },
    { at: ist('2026-12-18', '10:00'), open: true }, // Friday
    { at: ist('2026-12-19', '10:00'), open: false }, // Saturday
    { at: ist('2026-12-20', '10:00'), open: false }, // Sunday
  ])('$at → $open', ({ at, open }) => {
    expect(inMarketHours(at)).toBe(open);
  });
});
