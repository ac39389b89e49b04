/** Copy state rules shared by the engine and the executor. Pure. */
import type { OrderStatus } from '../domain/order.js';
import type { CopyState } from '../store/schema.js';

const RANK: Record<CopyState, number> = {
  planned: 0,
  awaiting_approval: 0,
  placing: 1,
  open: 2,
  filled: 3,
  cancelled: 3,
  rejected: 3,
  skipped: 3,
  expired: 3,
  failed: 3,
  // Outcome unknown after the look-ups gave up: nothing more is sent by itself (see unknown-outcome.ts).
  unknown: 3,
};

export const LIVE_COPY_STATES: CopyState[] = ['planned', 'awaiting_approval', 'placing', 'open'];

export function isFinal(s: CopyState): boolean {
  return RANK[s] === 3;
}

/** The copy state a follower order status implies. */
export function copyStateOf(status: OrderStatus): CopyState {
  switch (status) {
    case 'transit':
      return 'placing';
    case 'open':
      return 'open';
    case 'filled':
      return 'filled';
    case 'rejected':
      return 'rejected';
    case 'cancelled':
    case 'expired':
      return 'cancelled';
  }
}

/** Whether moving from `from` to `to` goes forward (never backwards, never out of a final state). */
export function movesForward(from: CopyState, to: CopyState): boolean {
  // A copy given up as failed, or whose outcome is unknown, is revived when its tagged order turns up.
  if (from === 'failed' || from === 'unknown') return to === 'open' || to === 'filled' || to === 'cancelled' || to === 'rejected';
  return !isFinal(from) && RANK[to] > RANK[from];
}
