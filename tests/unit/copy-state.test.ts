import { describe, expect, it } from 'vitest';
import { copyStateOf, isFinal, LIVE_COPY_STATES, movesForward } from '../../src/engine/copy-state.js';
import { ORDER_STATUSES, type OrderStatus } from '../../src/domain/order.js';
import { COPY_STATES, type CopyState } from '../../src/store/schema.js';

describe('copyStateOf', () => {
  const expected: Record<OrderStatus, CopyState> = {
    transit: 'placing',
    open: 'open',
    filled: 'filled',
    rejected: 'rejected',
    cancelled: 'cancelled',
    expired: 'cancelled',
  };
  it.each(ORDER_STATUSES.map((s) => ({ status: s, state: expected[s] })))('$status → $state', ({ status, state }) => {
    expect(copyStateOf(status)).toBe(state);
  });
});

describe('isFinal and LIVE_COPY_STATES', () => {
  const finals: CopyState[] = ['filled', 'cancelled', 'rejected', 'skipped', 'expired', 'failed', 'unknown'];
  it.each(COPY_STATES.map((s) => ({ state: s, final: finals.includes(s) })))('$state final=$final', ({ state, final }) => {
    expect(isFinal(state)).toBe(final);
    // live and final partition the states
    expect(LIVE_COPY_STATES.includes(state)).toBe(!final);
  });
});

/** Every (from, to) pair with the expected answer. */
const FORWARD: Record<CopyState, CopyState[]> = {
  planned: ['placing', 'open', 'filled', 'cancelled', 'rejected', 'skipped', 'expired', 'failed', 'unknown'],
  awaiting_approval: ['placing', 'open', 'filled', 'cancelled', 'rejected', 'skipped', 'expired', 'failed', 'unknown'],
  placing: ['open', 'filled', 'cancelled', 'rejected', 'skipped', 'expired', 'failed', 'unknown'],
  open: ['filled', 'cancelled', 'rejected', 'skipped', 'expired', 'failed', 'unknown'],
  filled: [],
  cancelled: [],
  rejected: [],
  skipped: [],
  expired: [],
  // A copy given up as failed is revived when its tagged order turns up at the broker.
  failed: ['open', 'filled', 'cancelled', 'rejected'],
  // Likewise a copy whose outcome is unknown: only a real broker state settles it, never a re-send by itself.
  unknown: ['open', 'filled', 'cancelled', 'rejected'],
};

const pairs = COPY_STATES.flatMap((from) => COPY_STATES.map((to) => ({ from, to, forward: FORWARD[from].includes(to) })));

describe('movesForward', () => {
  it.each(pairs)('$from → $to: $forward', ({ from, to, forward }) => {
    expect(movesForward(from, to)).toBe(forward);
  });

  it.each<{ from: CopyState; to: CopyState; forward: boolean; why: string }>([
    { from: 'open', to: 'placing', forward: false, why: 'a late transit echo never moves an open copy back' },
    { from: 'open', to: 'open', forward: false, why: 'same state is not a move' },
    { from: 'filled', to: 'cancelled', forward: false, why: 'a final state is never left' },
    { from: 'cancelled', to: 'open', forward: false, why: 'a late open after cancel is stale' },
    { from: 'planned', to: 'awaiting_approval', forward: false, why: 'same rank' },
    { from: 'failed', to: 'placing', forward: false, why: 'a failed copy revives only on a real broker state' },
    { from: 'failed', to: 'failed', forward: false, why: 'no self move' },
    { from: 'failed', to: 'filled', forward: true, why: 'revived by its order turning up filled' },
    { from: 'unknown', to: 'open', forward: true, why: 'an order in doubt that turns up is adopted' },
    { from: 'unknown', to: 'placing', forward: false, why: 'only the admin\'s Send it puts it back in placing (a guarded transition, not this rule)' },
  ])('$from → $to: $why', ({ from, to, forward }) => {
    expect(movesForward(from, to)).toBe(forward);
  });

  it('following copyStateOf of a normal order life only ever moves forward', () => {
    const life: OrderStatus[] = ['transit', 'open', 'open', 'filled'];
    let state: CopyState = 'planned';
    const seen: CopyState[] = [];
    for (const s of life) {
      const to = copyStateOf(s);
      if (movesForward(state, to)) {
        state = to;
        seen.push(to);
      }
    }
    expect(seen).toEqual(['placing', 'open', 'filled']);
  });
});
