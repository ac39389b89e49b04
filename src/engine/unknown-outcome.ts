/**
 * Placements whose outcome is unknown (timeout, reset, 5xx, a malformed answer, a crash): the
 * order may or may not be at the broker, and brokers do not de-duplicate by tag. The rule:
 *
 * - Look the tag up on a short schedule (the broker needs a moment to show a new order). Found:
 *   adopt it. A look-up that *succeeded* at the end of the schedule or later and did not find the
 *   tag is proof of absence: place once more, same tag (once; after that second try, absence
 *   means not placed).
 * - A look-up that failed proves nothing. Failed look-ups go on with backoff, off the follower's
 *   queue (its other copies are not held up), until the give-up time; then the copy is `unknown`:
 *   one loud alert, and nothing is sent by itself. The owner decides with two buttons: *It is
 *   there* (the book is read again; the order is adopted if its tag is in it) and *Send it* (two
 *   taps; places once more with the same tag). A stream update or a book read that meets the tag
 *   later adopts it too (copy-state.ts: `unknown` is revived like `failed`).
 */
import { SessionExpired } from '../brokers/port.js';
import type { BrokerOrder, OrderStatus } from '../domain/order.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { CopyRow, Store } from '../store/index.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';

export interface UnknownOutcomeOptions {
  /** Waits before each scheduled look-up; the last one's answer decides, if it comes. */
  lookupDelaysMs: number[];
  /** How long failed look-ups are retried (from the first one) before the copy is `unknown`. */
  giveUpMs: number;
  /** Longest wait between two look-ups once the schedule is over (the backoff doubles up to it). */
  maxLookupBackoffMs: number;
}

/** What the executor lends this module: the placement bookkeeping it owns. */
export interface OutcomeHost {
  adoptFound(f: FollowerRuntime, copy: CopyRow, orderId: string, status: OrderStatus, how: string, extra?: Partial<CopyRow>): void;
  fail(copy: CopyRow, state: 'failed', reason: string): void;
  markSessionExpired(f: FollowerRuntime, detail: string): void;
  /** Place a copy in `placing` once more with its tag (a second attempt: no third follows). */
  sendAgain(f: FollowerRuntime, copy: CopyRow): Promise<void>;
  /** Queue the cancellation of a copy's working order. */
  cancel(copyId: number, followerId: string, why: string): Promise<void>;
  /** An order read from a follower's book, for the engine's own bookkeeping (fills, positions). */
  orderSeen(f: FollowerRuntime, o: BrokerOrder): void;
  /** Apply the follower stream updates still waiting for their turn (one may carry this very order). */
  settleUpdates(): void;
}

export type AdoptOutcome =
  | { kind: 'adopted'; copy: CopyRow; order: BrokerOrder; cancelling: boolean }
  | { kind: 'absent'; copy: CopyRow; readAt: number }
  | { kind: 'read_failed'; copy: CopyRow; error: string }
  | { kind: 'settled'; copy: CopyRow | undefined };

export type SendOutcome = { kind: 'sending'; copy: CopyRow } | { kind: 'refused'; copy: CopyRow | undefined; reason: string };

const DEAD_LEADER = new Set(['cancelled', 'rejected', 'expired']);

export class UnknownOutcomes {
  private stopped = false;
  private readonly sleepers = new Set<() => void>();
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly followers: Map<string, FollowerRuntime>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly events: EngineEvents,
    private readonly host: OutcomeHost,
    private readonly opts: UnknownOutcomeOptions,
  ) {}

  /**
   * Runs in the follower's queue: the scheduled look-ups. Adopts, re-sends on proof of absence,
   * or hands the copy to the background look-ups when the last scheduled one failed.
   */
  async resolve(f: FollowerRuntime, copy: CopyRow, why: string, isRetry = false): Promise<void> {
    const started = performance.now();
    let lastError = why;
    const delays = this.opts.lookupDelaysMs.length ? this.opts.lookupDelaysMs : [0];
    for (const [i, delay] of delays.entries()) {
      const r = await this.lookUp(f, copy, delay);
      if (r.kind === 'done') return;
      if (r.kind === 'dead') return this.giveUp(copy, why, r.error);
      if (r.kind === 'absent' && i === delays.length - 1) return this.absent(f, copy, why, isRetry);
      if (r.kind === 'failed') lastError = r.error;
    }
    const job = this.keepLooking(f, copy, why, isRetry, started, lastError, delays.at(-1) ?? 0).catch((e: unknown) => {
      this.log.error({ follower: f.id, copy: copy.id, err: e instanceof Error ? e.message : String(e) }, 'background look-up of an unknown outcome stopped');
    });
    this.background.add(job);
    void job.finally(() => this.background.delete(job));
  }

  /** Off the queue: failed look-ups go on with backoff until one answers or the give-up time. */
  private async keepLooking(f: FollowerRuntime, copy: CopyRow, why: string, isRetry: boolean, started: number, lastError: string, lastWait: number): Promise<void> {
    let wait = lastWait;
    let error = lastError;
    this.log.warn({ follower: f.id, copy: copy.id, tag: copy.tag, err: error }, 'order look-ups by tag are failing; retrying with backoff before asking the owner');
    for (;;) {
      const left = this.opts.giveUpMs - (performance.now() - started);
      if (left <= 0 || this.stopped) break;
      wait = Math.min(this.opts.maxLookupBackoffMs, Math.max(2 * wait, 250), left);
      const r = await this.lookUp(f, copy, wait);
      if (r.kind === 'done') return;
      if (r.kind === 'dead') return this.giveUp(copy, why, r.error);
      // Proof of absence, later than the schedule: the re-send waits its turn in the queue.
      if (r.kind === 'absent') return f.run(() => this.absent(f, copy, why, isRetry));
      error = r.error;
    }
    if (!this.stopped) this.giveUp(copy, why, error, performance.now() - started);
  }

  /** One look-up after `delay`; `done` when the copy is settled (adopted here, or meanwhile). */
  private async lookUp(
    f: FollowerRuntime,
    copy: CopyRow,
    delay: number,
  ): Promise<{ kind: 'done' } | { kind: 'absent' } | { kind: 'failed'; error: string } | { kind: 'dead'; error: string }> {
    await this.sleep(delay);
    if (this.stopped || this.store.copies.get(copy.id)?.state !== 'placing') return { kind: 'done' }; // the stream settled it
    try {
      const found = await f.broker.findOrderByTag(copy.tag);
      if (!found) return { kind: 'absent' };
      const cur = this.store.copies.get(copy.id);
      if (cur?.state === 'placing') {
        this.host.adoptFound(f, cur, found.orderId, found.status, 'found by tag');
        this.host.orderSeen(f, { ...found, tag: copy.tag });
      }
      return { kind: 'done' };
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      if (e instanceof SessionExpired) {
        // No look-up can succeed before a new token: ask the owner now.
        this.host.markSessionExpired(f, error);
        return { kind: 'dead', error: `session expired: ${error}` };
      }
      this.log.warn({ follower: f.id, copy: copy.id, err: error }, 'look-up by tag failed; it proves nothing, trying again');
      return { kind: 'failed', error };
    }
  }

  /** A look-up succeeded and the broker has no order with the tag. */
  private async absent(f: FollowerRuntime, copy: CopyRow, why: string, isRetry: boolean): Promise<void> {
    // A stream update that arrived with this answer may already show the order: it counts first.
    this.host.settleUpdates();
    const fresh = this.store.copies.get(copy.id);
    if (!fresh || fresh.state !== 'placing') return;
    if (isRetry) {
      this.host.fail(fresh, 'failed', `outcome unknown after a second attempt (${why}); the broker shows no order with tag ${copy.tag}: not placed`);
      return;
    }
    this.log.warn({ follower: f.id, copy: copy.id, tag: copy.tag }, 'the broker shows no order with this tag; placing once more with the same tag');
    await this.host.sendAgain(f, fresh);
  }

  /** No look-up could answer in time: `unknown`, one alert, nothing sent by itself. */
  private giveUp(copy: CopyRow, why: string, lastError: string, lookedForMs?: number): void {
    if (!this.store.copies.transition(copy.id, 'placing', 'unknown', this.clock.now())) return;
    const span = lookedForMs === undefined ? '' : ` for ${Math.round(lookedForMs / 1000)} s`;
    this.store.copies.update(copy.id, { reason: `${why}; every look-up of tag ${copy.tag} failed${span} (last: ${lastError})` });
    const row = this.store.copies.get(copy.id) ?? copy;
    this.log.error({ follower: copy.followerId, copy: copy.id, tag: copy.tag, err: lastError }, 'placement outcome UNKNOWN: nothing more is sent until the owner decides');
    this.events.emit({ type: 'copy_unknown', copy: row });
  }

  /** *It is there*: read the follower's book; adopt the order if its tag is in it. */
  async adopt(copyId: number): Promise<AdoptOutcome> {
    const copy = this.store.copies.get(copyId);
    const f = copy ? this.followers.get(copy.followerId) : undefined;
    if (!copy || copy.state !== 'unknown') return { kind: 'settled', copy };
    if (!f) return { kind: 'read_failed', copy, error: `follower ${copy.followerId} is not configured any more` };
    let book: BrokerOrder[];
    try {
      book = await f.broker.orders();
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      if (e instanceof SessionExpired) this.host.markSessionExpired(f, error);
      return { kind: 'read_failed', copy, error };
    }
    const cur = this.store.copies.get(copyId);
    if (!cur || cur.state !== 'unknown') return { kind: 'settled', copy: cur };
    const order = book.filter((o) => o.tag === copy.tag).at(-1);
    if (!order) return { kind: 'absent', copy: cur, readAt: this.clock.now() };
    const fill = order.filledQty > 0 ? { filledQty: order.filledQty, avgPrice: order.avgPrice } : {};
    this.host.adoptFound(f, cur, order.orderId, order.status, 'with this tag found in the order book (It is there)', fill);
    this.host.orderSeen(f, order);
    const after = this.store.copies.get(copyId) ?? cur;
    // The leader cancelled meanwhile: the order just found is one the leader no longer has.
    const cancelling = after.state === 'open' && this.leaderGone(after) !== null;
    if (cancelling) void this.host.cancel(after.id, f.id, `the leader order was ${this.leaderGone(after)} while the copy was in doubt`);
    return { kind: 'adopted', copy: after, order, cancelling };
  }

  /** *Send it*, second tap: place once more with the same tag, as the admin decided. */
  sendIt(copyId: number, actor: number): SendOutcome {
    const copy = this.store.copies.get(copyId);
    if (!copy || copy.state !== 'unknown') return { kind: 'refused', copy, reason: copy ? `this copy is ${copy.state} now` : 'no such copy' };
    const f = this.followers.get(copy.followerId);
    if (!f) return { kind: 'refused', copy, reason: `follower ${copy.followerId} is not configured any more` };
    if (!f.sessionOk) return { kind: 'refused', copy, reason: `${f.id}'s broker session is dead: /login ${f.id} first` };
    const gone = this.leaderGone(copy);
    if (gone) return { kind: 'refused', copy, reason: `the leader order ${copy.leaderOrderId} is ${gone} now: nothing to copy` };
    if (!this.store.copies.transition(copy.id, 'unknown', 'placing', this.clock.now())) {
      return { kind: 'refused', copy: this.store.copies.get(copyId), reason: 'decided meanwhile' };
    }
    this.store.copies.update(copy.id, { reason: `${copy.reason ?? 'outcome unknown'}; sent again by ${actor} (Send it)` });
    const row = this.store.copies.get(copy.id) ?? copy;
    this.log.warn({ follower: f.id, copy: copy.id, tag: copy.tag, actor }, 'Send it: placing a copy of unknown outcome once more, same tag, by the owner\'s decision');
    void f.run(() => this.host.sendAgain(f, row));
    return { kind: 'sending', copy: row };
  }

  /**
   * The leader cancelled (or the engine halted) while this copy is `unknown`: it cannot be
   * cancelled (no order id is known), so say so loudly. *Send it* is refused from now on.
   */
  cannotCancel(copy: CopyRow, why: string): void {
    this.log.warn({ follower: copy.followerId, copy: copy.id, tag: copy.tag, why }, 'cancel of a copy whose outcome is unknown: reported, not sent');
    this.events.emit({
      type: 'error',
      accountId: copy.followerId,
      message: `${why}, but ${copy.followerId}'s copy (${copy.side} ${copy.plannedQty} ${copy.symbol}, tag ${copy.tag}) is in doubt: tandem never learnt whether it reached the broker, so it cannot cancel it. Check ${copy.followerId}'s order book: if the order is there, cancel it at the broker.`,
    });
  }

  /** The leader order's end state when it is cancelled, rejected or expired; null while it lives (or filled). */
  private leaderGone(copy: CopyRow): string | null {
    const leader = this.store.leader.get(copy.leaderOrderId);
    return leader && DEAD_LEADER.has(leader.status) ? leader.status : null;
  }

  /** Stop the background look-ups (shutdown): copies still in doubt stay `placing` and are resolved at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    await Promise.all(this.background);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.sleepers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      t.unref();
      this.sleepers.add(wake);
    });
  }
}
