/**
 * Carries out copies at follower brokers: place, modify, cancel — each through the follower's
 * own serial, rate-limited queue. Placement follows the exactly-once rules: a guarded
 * `planned → placing` claim before the call; an unknown outcome is resolved by looking the tag up
 * at the broker, and re-placed (once, same tag) only on proof of absence (unknown-outcome.ts).
 */
import type { BrokerOrder, OrderChange, OrderRequest, OrderStatus } from '../domain/order.js';
import type { Logger } from '../infra/logger.js';
import type { Clock } from '../infra/clock.js';
import type { PriceBoard } from '../infra/price-board.js';
import { BrokerRateLimited, BrokerRejected, SessionExpired } from '../brokers/port.js';
import type { CopyRow, Store } from '../store/index.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';
import { copyStateOf, movesForward } from './copy-state.js';
import { ClaimBatcher } from './claims.js';
import { TurnWrites } from './turn-writes.js';
import { UnknownOutcomes, type OutcomeHost, type UnknownOutcomeOptions } from './unknown-outcome.js';

/** The look-up schedule, the give-up time and the backoff of unknown outcomes: see UnknownOutcomeOptions. */
export interface ExecutorOptions extends UnknownOutcomeOptions {
  /** How many times a rate-limited call is retried (nothing was accepted, so it is safe). */
  rateLimitRetries: number;
  /** Waits before asking again to cancel an order the broker still has in transit. */
  transitRetryMs: number[];
}

export const DEFAULT_EXECUTOR_OPTIONS: ExecutorOptions = {
  lookupDelaysMs: [300, 1000, 2500],
  giveUpMs: 300_000,
  maxLookupBackoffMs: 30_000,
  rateLimitRetries: 8,
  transitRetryMs: [200, 400, 800, 1600, 2000, 2000, 2000],
};

/** The broker refused because the order has not reached the exchange yet: asking again is safe. */
function isInTransit(e: unknown): boolean {
  return e instanceof BrokerRejected && /in\s*transit/i.test(e.message);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class CopyExecutor implements OutcomeHost {
  constructor(
    private readonly store: Store,
    private readonly followers: Map<string, FollowerRuntime>,
    private readonly prices: PriceBoard,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly events: EngineEvents,
    /** Describes how a follower now differs from the leader, for failure alerts. */
    private readonly consequence: (copy: CopyRow) => string,
    private readonly opts: ExecutorOptions = DEFAULT_EXECUTOR_OPTIONS,
  ) {
    this.claims = new ClaimBatcher(store, () => clock.now());
    this.acks = new TurnWrites(store);
    this.unknown = new UnknownOutcomes(store, followers, clock, log, events, this, opts);
  }

  private readonly claims: ClaimBatcher;
  /** Acknowledgements of one turn share a commit (turn-writes.ts). */
  private readonly acks: TurnWrites;
  /** Copies whose placement outcome is unknown: look-ups, give-up, and the owner's two buttons. */
  readonly unknown: UnknownOutcomes;
  /**
   * Told of every follower order read back while settling an outcome (by tag, or from the book),
   * so fills it already carries are booked like a stream update's. The engine sets it.
   */
  onOrderSeen: ((f: FollowerRuntime, o: BrokerOrder) => void) | null = null;

  orderSeen(f: FollowerRuntime, o: BrokerOrder): void {
    this.onOrderSeen?.(f, o);
  }

  /** Applies the follower stream updates still waiting for their turn (the engine sets it). */
  onSettle: (() => void) | null = null;

  settleUpdates(): void {
    this.onSettle?.();
  }

  /** A second attempt of a copy in `placing` (same tag); its own unknown outcome ends in `failed` or `unknown`. */
  sendAgain(f: FollowerRuntime, copy: CopyRow): Promise<void> {
    return this.send(f, copy, null, true);
  }

  private follower(id: string): FollowerRuntime | undefined {
    return this.followers.get(id);
  }

  /** Queue the placement of a planned copy. `t0` is the perf-clock time the leader event arrived. */
  place(copy: CopyRow, t0: number | null): Promise<void> {
    const f = this.follower(copy.followerId);
    if (!f) return Promise.resolve();
    return f.run(() => this.doPlace(f, copy.id, t0));
  }

  /** Queue the sending of a copy inserted already claimed (`placing`) by the leader event's transaction. */
  placeClaimed(copy: CopyRow, t0: number | null): Promise<void> {
    const f = this.follower(copy.followerId);
    if (!f) return Promise.resolve();
    return f.run(() => this.sendClaimed(f, copy, t0));
  }

  /** Queue the resolution of a copy left in `placing` (crash, restart). */
  recover(copy: CopyRow): Promise<void> {
    const f = this.follower(copy.followerId);
    if (!f) return Promise.resolve();
    return f.run(() => this.resolveUnknown(f, copy, 'found in placing at start-up'));
  }

  private request(copy: CopyRow): OrderRequest {
    // The market price for a paper fill; limit and trigger prices are not market prices.
    const ref = this.prices.last(copy) ?? undefined;
    return {
      tag: copy.tag,
      instrument: { segment: copy.segment, securityId: copy.securityId, symbol: copy.symbol },
      side: copy.side,
      orderType: copy.orderType,
      product: copy.product,
      validity: copy.validity,
      amo: copy.amo,
      quantity: copy.plannedQty,
      ...(copy.price > 0 ? { price: copy.price } : {}),
      ...(copy.triggerPrice > 0 ? { triggerPrice: copy.triggerPrice } : {}),
      ...(ref ? { referencePrice: ref } : {}),
    };
  }

  /** A broker write under the follower's rate limit, retried only on rate limiting. */
  private async limited<T>(f: FollowerRuntime, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await f.bucket.take();
      try {
        return await call();
      } catch (e) {
        if (!(e instanceof BrokerRateLimited) || attempt >= this.opts.rateLimitRetries) throw e;
        this.log.warn({ follower: f.id, retryAfterMs: e.retryAfterMs }, 'rate limited by the broker; pausing this follower queue');
        f.bucket.pause(e.retryAfterMs);
      }
    }
  }

  private async doPlace(f: FollowerRuntime, copyId: number, t0: number | null): Promise<void> {
    const copy = await this.claims.claim(copyId);
    if (copy) await this.sendClaimed(f, copy, t0);
  }

  /** A copy this caller claimed: adopt its order if the broker already has its tag, else send it. */
  private async sendClaimed(f: FollowerRuntime, copy: CopyRow, t0: number | null): Promise<void> {
    // The broker's book, read at start-up, has an order with this tag that no copy claimed: the copy
    // was sent before a crash whose last commits were lost. Adopt it; never send it twice.
    const known = f.unclaimed.get(copy.tag);
    if (known) {
      f.unclaimed.delete(copy.tag);
      this.store.copies.linkFollowerOrder(f.id, known.orderId, copy.id);
      const fill = known.filledQty > 0 ? { filledQty: known.filledQty, avgPrice: known.avgPrice } : {};
      this.adoptFound(f, copy, known.orderId, known.status, 'with this tag is already in the broker order book (sent before a restart)', fill);
      return;
    }
    await this.send(f, copy, t0);
  }

  /** Send a copy that is in `placing`, and record the outcome. */
  private async send(f: FollowerRuntime, copy: CopyRow, t0: number | null, isRetry = false): Promise<void> {
    const req = this.request(copy);
    let sentAt = 0;
    let tSend = 0;
    // Written with the outcome, not before the call: it guards nothing, and a write here would put
    // a second SQLite commit between the leader event and the order request.
    let internalLatencyUs: number | undefined;
    try {
      const res = await this.limited(f, () => {
        sentAt = this.clock.now();
        tSend = performance.now();
        if (t0 !== null && !isRetry) internalLatencyUs = Math.round((tSend - t0) * 1000);
        return f.broker.placeOrder(req);
      });
      const ackUs = Math.round((performance.now() - tSend) * 1000);
      const ackedAt = this.clock.now();
      const placed = await this.acks.run(() =>
        this.adopt(copy.id, res.orderId, res.status, {
          requestSentAt: sentAt,
          ackedAt,
          brokerLatencyUs: ackUs,
          ...(internalLatencyUs !== undefined ? { internalLatencyUs } : {}),
        }),
      );
      if (placed) this.events.emit({ type: 'copy_placed', copy: placed });
    } catch (e) {
      if (internalLatencyUs !== undefined) this.store.copies.update(copy.id, { internalLatencyUs });
      await this.onPlaceError(f, copy, e, isRetry);
    }
  }

  /**
   * Record that the copy's order exists at the broker: an order the broker still has in transit is
   * open as far as the copy goes (it exists). Never moves the copy's state backwards. Returns the
   * copy as it now is.
   */
  private adopt(copyId: number, orderId: string, status: OrderStatus, extra: Partial<CopyRow> = {}): CopyRow | undefined {
    const cur = this.store.copies.get(copyId);
    if (!cur) return undefined;
    const state = copyStateOf(status === 'transit' ? 'open' : status);
    const patch: Partial<CopyRow> = { followerOrderId: orderId, updatedAt: this.clock.now(), ...extra };
    if (movesForward(cur.state, state)) patch.state = state;
    this.store.copies.update(copyId, patch);
    return { ...cur, ...patch };
  }

  /** A copy's order turned out to exist at the broker already: adopt it and say what it is. */
  adoptFound(f: FollowerRuntime, copy: CopyRow, orderId: string, status: OrderStatus, how: string, extra: Partial<CopyRow> = {}): void {
    this.log.info({ follower: f.id, copy: copy.id, orderId }, `order ${how}; adopted, not placed again`);
    const row = this.adopt(copy.id, orderId, status, { ackedAt: this.clock.now(), ...extra });
    if (row && row.state !== 'rejected') this.events.emit({ type: 'copy_placed', copy: row });
    else if (row) this.events.emit({ type: 'copy_failed', copy: row, consequence: this.consequence(row) });
  }

  fail(copy: CopyRow, state: 'rejected' | 'failed', reason: string): void {
    this.store.copies.update(copy.id, { state, reason, updatedAt: this.clock.now() });
    const row = this.store.copies.get(copy.id) ?? copy;
    this.events.emit({ type: 'copy_failed', copy: row, consequence: this.consequence(row) });
  }

  private async onPlaceError(f: FollowerRuntime, copy: CopyRow, e: unknown, isRetry: boolean): Promise<void> {
    if (e instanceof BrokerRejected) {
      this.fail(copy, 'rejected', e.message);
      return;
    }
    if (e instanceof BrokerRateLimited) {
      this.fail(copy, 'failed', `still rate limited after ${this.opts.rateLimitRetries} retries: ${e.message}`);
      return;
    }
    if (e instanceof SessionExpired) {
      this.markSessionExpired(f, e.message);
      this.fail(copy, 'failed', `session expired: ${e.message}`);
      return;
    }
    // Unknown outcome: network, timeout, 5xx, or a bug. Look the tag up; never re-send blindly.
    const msg = e instanceof Error ? e.message : String(e);
    this.log.warn({ follower: f.id, copy: copy.id, tag: copy.tag, err: msg }, 'placement outcome unknown; looking the order up by tag');
    await this.resolveUnknown(f, copy, msg, isRetry);
  }

  markSessionExpired(f: FollowerRuntime, detail: string): void {
    if (!f.sessionOk) return;
    f.sessionOk = false;
    f.sessionDetail = detail;
    this.events.emit({ type: 'session_expired', accountId: f.id, detail });
  }

  /** The copy is in `placing` and we do not know whether the broker has it (see unknown-outcome.ts). */
  private resolveUnknown(f: FollowerRuntime, copy: CopyRow, why: string, isRetry = false): Promise<void> {
    return this.unknown.resolve(f, copy, why, isRetry);
  }

  /** Queue a change to a copy's order (or to the intent, if it has not been placed yet). */
  modify(copyId: number, followerId: string, change: OrderChange): Promise<void> {
    const f = this.follower(followerId);
    if (!f) return Promise.resolve();
    return f.run(async () => {
      const copy = this.store.copies.get(copyId);
      if (!copy) return;
      const terms = {
        orderType: change.orderType,
        price: change.price ?? copy.price,
        triggerPrice: change.triggerPrice ?? copy.triggerPrice,
        plannedQty: change.quantity ?? copy.plannedQty,
        lots: (change.quantity ?? copy.plannedQty) / copy.lotSize,
        updatedAt: this.clock.now(),
      };
      if (copy.state === 'planned' || copy.state === 'awaiting_approval') {
        this.store.copies.update(copy.id, terms);
        return;
      }
      if (copy.state !== 'open' || !copy.followerOrderId) return;
      const orderId = copy.followerOrderId;
      try {
        await this.limited(f, () => f.broker.modifyOrder(orderId, change));
        this.store.copies.update(copy.id, terms);
      } catch (e) {
        this.onSideCallError(f, copy, 'modify', e);
      }
    });
  }

  /** Queue the cancellation of a copy: an unplaced intent is dropped, a working order cancelled. */
  cancel(copyId: number, followerId: string, why: string): Promise<void> {
    const f = this.follower(followerId);
    if (!f) return Promise.resolve();
    return f.run(() => this.cancelNow(f, copyId, why).then(() => undefined));
  }

  /**
   * Cancel a copy from inside the follower's queue (the caller holds its turn). A broker that says
   * the order is still in transit (Dhan DH-906 "Order is in Transit state", the first moments of an
   * order) is asked again with backoff, ~10 s in all, before the failure is reported. Returns
   * whether the copy is now cancelled (or never reached the broker).
   */
  async cancelNow(f: FollowerRuntime, copyId: number, why: string): Promise<boolean> {
    const copy = this.store.copies.get(copyId);
    if (!copy) return false;
    const now = this.clock.now();
    for (const from of ['planned', 'awaiting_approval'] as const) {
      if (copy.state === from && this.store.copies.transition(copy.id, from, 'cancelled', now)) {
        this.store.copies.update(copy.id, { reason: `${why} before the copy was placed` });
        return true;
      }
    }
    if (copy.state !== 'open' || !copy.followerOrderId) return false;
    const orderId = copy.followerOrderId;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.limited(f, () => f.broker.cancelOrder(orderId));
        if (this.store.copies.transition(copy.id, 'open', 'cancelled', this.clock.now())) {
          this.store.copies.update(copy.id, { reason: why });
          const row = this.store.copies.get(copy.id);
          if (row) this.events.emit({ type: 'copy_cancelled', copy: row });
        }
        return true;
      } catch (e) {
        const delay = this.opts.transitRetryMs[attempt];
        if (isInTransit(e) && delay !== undefined) {
          this.log.info({ follower: f.id, copy: copy.id, attempt: attempt + 1 }, 'cancel refused: the order is still in transit; asking again');
          await sleep(delay);
          continue;
        }
        this.onSideCallError(f, copy, 'cancel', e);
        return false;
      }
    }
  }

  /** Claim and send a planned copy from inside the follower's queue (the caller holds its turn). */
  placeNow(f: FollowerRuntime, copyId: number): Promise<void> {
    return this.doPlace(f, copyId, null);
  }

  private onSideCallError(f: FollowerRuntime, copy: CopyRow, op: 'modify' | 'cancel', e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof SessionExpired) this.markSessionExpired(f, msg);
    this.log.warn({ follower: f.id, copy: copy.id, op, err: msg }, `follower ${op} failed`);
    this.store.copies.update(copy.id, { reason: `${op} failed: ${msg}`, updatedAt: this.clock.now() });
    this.events.emit({ type: 'error', accountId: f.id, message: `Could not ${op} ${copy.symbol} (copy of leader order ${copy.leaderOrderId}): ${msg}. ${this.consequence(copy)}` });
  }
}
