/** The line that tells the owner what a copy that did not go leaves a follower holding. */
import type { CopyRow, Store } from '../store/index.js';
import type { PositionBook } from './positions.js';

/** "F1 now differs from the leader in NIFTY…: leader holds 150, F1 holds 0." */
export function consequenceOf(store: Store, positions: PositionBook, c: CopyRow): string {
  const leaderRow = store.leader.get(c.leaderOrderId);
  // Each in its own product: the follower's may differ from the leader's (its PRODUCT rule).
  const leaderNet = leaderRow ? positions.get('leader', leaderRow, leaderRow.product) : null;
  const held = positions.get(c.followerId, c, c.product);
  const lots = (q: number) => (c.lotSize > 1 ? `${q / c.lotSize} lot(s)` : `${q}`);
  const leaderPart = leaderNet === null ? '' : `leader holds ${lots(leaderNet)}, `;
  return `${c.followerId} now differs from the leader in ${c.symbol}: ${leaderPart}${c.followerId} holds ${lots(held)}.`;
}
