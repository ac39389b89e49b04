/**
 * How one leader update is recorded. An update from which nothing follows (a working order's
 * TRANSIT → PENDING, a first-seen TRANSIT) needs no commit of its own: it rides in the next one
 * (Store.later), and is skipped then if a newer update of the same order committed first. Any other
 * is the copy path's one commit before the order calls (Store.txNow): the order row, the leader's
 * fill, the approval asked for, the copies (claimed where they can go at once). The event log is
 * not what a restart decides on (the reconcile reads the leader's book back): it always rides later.
 */
import type { BrokerOrder } from '../domain/order.js';
import type { LeaderOrderSnapshot } from '../domain/planner.js';
import type { Logger } from '../infra/logger.js';
import type { CopyRow, NewCopy, Store } from '../store/index.js';
import { fillRow } from './follower-updates.js';

export interface LeaderRecord {
  u: BrokerOrder;
  source: 'stream' | 'reconcile' | 'sim' | null;
  snap: LeaderOrderSnapshot;
  prev: LeaderOrderSnapshot | null;
  now: number;
  positionBefore: number | null;
  fillQty: number | null;
  /** Set when the copies wait for approval: the approval row to insert with them. */
  approval: { id: string; config: { thresholdInr: number | null; timeoutMs: number } } | null;
  planned: NewCopy[];
  /** Nothing follows from the update: no action, no copy, no approval, no MARKET-entry wait. */
  quiet: boolean;
}

/** Record the update; answers with the copies inserted and whether the leader's fill was new. */
export function recordLeaderUpdate(store: Store, log: Logger, isLatest: (orderId: string, snap: LeaderOrderSnapshot) => boolean, r: LeaderRecord): { inserted: CopyRow[]; counted: boolean } {
  const { u, source, snap, now, positionBefore } = r;
  const notRecorded = (err: unknown) => log.error({ err, orderId: u.orderId }, 'a leader update could not be recorded (the reconcile at start reads the order back)');
  if (r.quiet) {
    store.later(() => {
      if (source) store.leader.recordEvent(u, source, now);
      if (isLatest(u.orderId, snap)) store.leader.save(u, snap, now, positionBefore);
    }, notRecorded);
    return { inserted: [], counted: false };
  }
  let inserted: CopyRow[] = [];
  let counted = false;
  store.txNow(() => {
    store.leader.save(u, snap, now, positionBefore);
    if (r.fillQty !== null) counted = store.fills.record(fillRow('leader', u, r.fillQty, now, r.prev?.filledQty ?? 0, r.prev?.avgPrice ?? 0));
    if (r.approval) {
      const { id, config } = r.approval;
      store.approvals.insert({ id, leaderOrderId: u.orderId, state: 'pending', threshold: config.thresholdInr, expiresAt: now + config.timeoutMs, createdAt: now });
    }
    inserted = store.copies.insert(r.planned);
  });
  if (source) store.later(() => store.leader.recordEvent(u, source, now), notRecorded);
  return { inserted, counted };
}
