/**
 * At an Approve tap, is the world still the one the request showed? A request can be answered a
 * minute late: a scalper may be in and out by then. The copies are placed only when the leader order
 * is still working, or its fills are still held in the entry's direction, and a market entry's price
 * has not run against the follower beyond APPROVAL_PRICE_TOLERANCE of the value shown.
 */
import type { LeaderOrderSnapshot } from '../domain/planner.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { CopyRow, Store } from '../store/index.js';
import type { PositionBook } from './positions.js';

/** A tapped approval for a market entry is not placed if the price moved against it by more than this. */
export const APPROVAL_PRICE_TOLERANCE = 0.02;

export interface RecheckDeps {
  store: Store;
  positions: PositionBook;
  prices: PriceBoard;
  snapshot: (leaderOrderId: string) => LeaderOrderSnapshot | null;
}

/** The reason not to place the approved copies, or null when the request still holds. */
export function approvalNoLongerHolds(d: RecheckDeps, leaderOrderId: string, copies: CopyRow[]): string | null {
  const snap = d.snapshot(leaderOrderId);
  const row = d.store.leader.get(leaderOrderId);
  const c = copies.find((x) => x.state === 'awaiting_approval');
  if (!snap || !row || !c) return null;
  if (snap.status !== 'open' && snap.status !== 'transit') {
    if (snap.filledQty === 0) return `the leader order was ${snap.status}`;
    // The leader's own product: the copy's may differ (the follower's PRODUCT rule).
    const net = d.positions.get('leader', row, row.product);
    if (Math.sign(net) !== (c.side === 'BUY' ? 1 : -1)) return `the leader has exited ${c.symbol} (the leader now holds ${net})`;
  }
  const shown = c.notional !== null && c.plannedQty > 0 ? c.notional / c.plannedQty : null;
  const now = c.orderType === 'MARKET' || c.orderType === 'SL-M' ? d.prices.last(row) : null;
  if (shown !== null && now !== null) {
    const against = c.side === 'BUY' ? now / shown - 1 : 1 - now / shown;
    // A move of exactly the tolerance holds (102 against 100 is 2%, though the division says 2.0000000000000018%).
    if (against > APPROVAL_PRICE_TOLERANCE + 1e-9) return `the price moved from ${shown} to ${now} since the request (over ${APPROVAL_PRICE_TOLERANCE * 100}% against the entry)`;
  }
  return null;
}
