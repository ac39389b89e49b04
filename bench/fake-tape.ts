/**
 * The fake Dhan of the bench, taped: it remembers when each leader PENDING frame was written (its
 * onPush hook, right before the socket write) and when it accepted each follower copy. The leader
 * account, its follower accounts and the one order the leader keeps placing live here too.
 */
import { startFakeDhan, type FakeDhan, type UserOrderSpec } from '../tests/fakes/dhan.js';

export const LEADER_CLIENT = '1200000000';
export const followerClient = (k: number) => String(1200000001 + k);

/** NIFTY 26000 CE (lot 75) in the fake's master: one lot, limit, intraday margin. */
export const LEADER_ORDER: UserOrderSpec = { securityId: '61345', exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price: 120.5 };

export interface Tape {
  /** Leader order id → when its PENDING frame was written. */
  pendingAt: Map<string, number>;
  /** Correlation id of each follower order the fake accepted → when (cheap progress; exact arrival times come from placeRequests). */
  accepted: Map<string, number>;
}

export async function startTapedFake(): Promise<{ fake: FakeDhan; tape: Tape }> {
  const tape: Tape = { pendingAt: new Map(), accepted: new Map() };
  const fake = await startFakeDhan({
    orderRatePerSec: 1_000_000,
    onPush: (o, at) => {
      if (o.clientId === LEADER_CLIENT) {
        if (o.status === 'PENDING' && !tape.pendingAt.has(o.orderId)) tape.pendingAt.set(o.orderId, at);
      } else if (o.status === 'TRANSIT' && o.correlationId && !tape.accepted.has(o.correlationId)) tape.accepted.set(o.correlationId, at);
    },
  });
  return { fake, tape };
}
