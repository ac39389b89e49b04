/**
 * A follower's own order updates (its stream, a book read, a look-up): the follower order row, the
 * fills it books (each counted once into the position book), and the copy it belongs to.
 */
import type { BrokerOrder } from '../domain/order.js';
import { signedQty } from '../domain/order.js';
import type { Clock } from '../infra/clock.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { CopyRow, Store } from '../store/index.js';
import type { CopyState } from '../store/schema.js';
import { copyStateOf, movesForward } from './copy-state.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';
import type { PositionBook } from './positions.js';

/**
 * The fill an order update books: `qty` more, keyed by the order's cumulative fill, at the price of
 * this increment (derived from the average before and after; the average itself when unknown).
 */
export function fillRow(accountId: string, u: BrokerOrder, qty: number, at: number, prevFilled: number, prevAvg: number) {
  const increment = prevFilled > 0 && prevAvg > 0 ? (u.avgPrice * u.filledQty - prevAvg * prevFilled) / qty : u.avgPrice;
  return {
    accountId,
    orderId: u.orderId,
    cumulativeQty: u.filledQty,
    qty,
    price: increment > 0 ? increment : u.avgPrice,
    side: u.side,
    segment: u.instrument.segment,
    securityId: u.instrument.securityId,
    symbol: u.instrument.symbol,
    product: u.product,
    at,
  };
}

export interface FollowerUpdateDeps {
  store: Store;
  clock: Clock;
  positions: PositionBook;
  prices: PriceBoard;
  events: EngineEvents;
  consequence: (c: CopyRow) => string;
  /** A new fill of this follower was booked (the daily loss limit evaluates it). */
  onFill?: (followerId: string) => void;
}

/** Apply one follower order update. Synchronous; a repeat of what is recorded changes nothing. */
export function applyFollowerUpdate(d: FollowerUpdateDeps, f: FollowerRuntime, u: BrokerOrder, onCopyPath = false): void {
  recordFollowerUpdate(d, f, u, onCopyPath)?.();
}

/**
 * The writes of one follower order update, in their own transaction (a savepoint inside a caller's),
 * and what follows from them — the position book, prices, the loss limit, events — returned to be
 * run once those writes are committed; null when the update changes nothing.
 */
export function recordFollowerUpdate(d: FollowerUpdateDeps, f: FollowerRuntime, u: BrokerOrder, onCopyPath = false): (() => void) | null {
  // Its reads too in the transaction: one snapshot, and one read lock instead of one per statement.
  // On the copy path (right before a leader event is planned) no later write rides in it (Store.txNow).
  return onCopyPath ? d.store.txNow(() => recordInTx(d, f, u)) : d.store.tx(() => recordInTx(d, f, u));
}

function recordInTx(d: FollowerUpdateDeps, f: FollowerRuntime, u: BrokerOrder): (() => void) | null {
  const { store, clock } = d;
  const copy = store.copies.progressOf(u.tag, f.id, u.orderId);
  const prev = store.copies.followerOrder(f.id, u.orderId);
  // A repeat of what is recorded already (a duplicated push, a book read) changes nothing.
  if (prev && prev.status === u.status && prev.filledQty >= u.filledQty && prev.quantity === u.quantity && prev.copyId === (copy?.id ?? null)) return null;
  const prevFilled = prev?.filledQty ?? 0;
  const fillQty = u.filledQty > prevFilled ? u.filledQty - prevFilled : 0;
  const now = clock.now();
  const target = copyStateOf(u.status);
  let after: CopyRow | undefined;
  let counted = false;
  let moved = false;
  store.copies.upsertFollowerOrder({
    followerId: f.id,
    orderId: u.orderId,
    copyId: copy?.id ?? null,
    tag: u.tag,
    status: u.status,
    quantity: u.quantity,
    filledQty: Math.max(prevFilled, u.filledQty),
    avgPrice: u.avgPrice,
    reason: u.reason,
    updatedAt: now,
  });
  if (fillQty > 0) counted = store.fills.record(fillRow(f.id, u, fillQty, now, prevFilled, prev?.avgPrice ?? 0));
  if (copy) {
    const patch: Partial<CopyRow> = { updatedAt: now };
    if (!copy.followerOrderId) patch.followerOrderId = u.orderId;
    if (u.filledQty > copy.filledQty) {
      patch.filledQty = u.filledQty;
      patch.avgPrice = u.avgPrice;
    }
    if (movesForward(copy.state, target)) {
      patch.state = target;
      moved = true;
      if (target === 'filled') patch.filledAt = now;
      if (target === 'rejected') patch.reason = u.reason ?? 'rejected by the exchange';
    }
    // A repeat that moves nothing (TRANSIT after the acknowledgement, a book read) writes nothing to the copy.
    if (Object.keys(patch).length > 1) store.copies.update(copy.id, patch);
    // The whole row, as written, only for what a state change tells (the events carry it).
    if (moved) after = store.copies.get(copy.id);
  }
  return () => followerUpdateEffects(d, f, u, { from: copy?.state ?? null, after, counted, fillQty });
}

/** What a recorded update sets going, once its writes are committed. */
function followerUpdateEffects(d: FollowerUpdateDeps, f: FollowerRuntime, u: BrokerOrder, r: { from: CopyState | null; after: CopyRow | undefined; counted: boolean; fillQty: number }): void {
  const { store } = d;
  const { from, after, counted, fillQty } = r;
  // Counted once: only a fill row that is new moves the position (a replay finds its row there).
  if (counted) d.positions.add(f.id, u.instrument, u.product, signedQty(u.side, fillQty));
  if (fillQty > 0 && f.broker.kind !== 'paper') d.prices.publish(u.instrument, u.avgPrice);
  if (counted) d.onFill?.(f.id);
  if (from === null || !after || after.state === from) return;
  if (after.state === 'filled') {
    const leader = store.leader.get(after.leaderOrderId);
    d.events.emit({ type: 'copy_filled', copy: after, leaderPrice: leader && leader.avgPrice > 0 ? leader.avgPrice : null });
  } else if (after.state === 'rejected') {
    d.events.emit({ type: 'copy_failed', copy: after, consequence: d.consequence(after) });
  } else if (after.state === 'cancelled' && from === 'open') {
    d.events.emit({ type: 'copy_cancelled', copy: after });
  } else if (after.state === 'open' && (from === 'unknown' || from === 'failed')) {
    // A copy in doubt turned up at the broker: say so, as a placement.
    d.events.emit({ type: 'copy_placed', copy: after });
  }
}

/**
 * The follower order updates of one event-loop turn from the followers' streams, written together
 * in one transaction (issue 16). With 20 followers a leader order brings some 40 order updates
 * (TRANSIT, then PENDING, per copy), and a commit each was the largest single cost on the main
 * thread. Each update is recorded exactly as it would be alone (forward only, fills counted once by
 * cumulative quantity), in its own savepoint; what follows from it (positions, the loss limit,
 * events) runs only after the shared commit, so memory never runs ahead of the store. If the shared
 * commit fails, each update is applied again on its own, as without the batch. They wait at most
 * one turn — what any network delay does — and less where it matters: the engine flushes them
 * before it takes a leader event, and before a look-up may conclude that an order does not exist.
 * Book reads and look-ups (reconcile, exits, unknown outcomes) apply their updates at once.
 */
export class StreamUpdateBatch {
  private pending: [FollowerRuntime, BrokerOrder][] = [];
  private scheduled: NodeJS.Immediate | null = null;

  constructor(
    private readonly d: FollowerUpdateDeps,
    private readonly onError: (err: unknown, f: FollowerRuntime, u: BrokerOrder) => void,
  ) {}

  push(f: FollowerRuntime, u: BrokerOrder): void {
    this.pending.push([f, u]);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Apply what is waiting now; `onCopyPath`: right before a leader event is planned (no later write rides in its commit). */
  flush(onCopyPath = false): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    if (batch.length === 1) return this.alone(batch[0]!, onCopyPath);
    const txOf = onCopyPath ? this.d.store.txNow.bind(this.d.store) : this.d.store.tx.bind(this.d.store);
    let effects: ((() => void) | null)[];
    try {
      effects = txOf(() =>
        batch.map(([f, u]) =>
          this.guard(f, u, () => recordFollowerUpdate(this.d, f, u), (err) => {
            // SQLite rolled the whole transaction back itself (disk full, I/O error): the updates after
            // this one would each commit alone, and the replay below would find them recorded and skip
            // their effects. Abort the batch instead; every update is then applied alone, effects included.
            if (!this.d.store.inTransaction) throw err;
          }),
        ),
      );
    } catch (err) {
      this.onError(err, batch[0]![0], batch[0]![1]);
      for (const x of batch) this.alone(x, onCopyPath);
      return;
    }
    batch.forEach(([f, u], i) => {
      const then = effects[i];
      if (then) this.guard(f, u, then);
    });
  }

  private alone([f, u]: [FollowerRuntime, BrokerOrder], onCopyPath = false): void {
    this.guard(f, u, () => applyFollowerUpdate(this.d, f, u, onCopyPath));
  }

  private guard<T>(f: FollowerRuntime, u: BrokerOrder, fn: () => T, rethrowIf: (err: unknown) => void = () => {}): T | null {
    try {
      return fn();
    } catch (err) {
      rethrowIf(err);
      this.onError(err, f, u);
      return null;
    }
  }
}
