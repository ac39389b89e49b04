/**
 * The stale-child rule at run time (FOLLOWER_<ID>_UNFILLED_AFTER_S, FOLLOWER_<ID>_UNFILLED): once a
 * second, off the hot path, every LIMIT entry copy still working at its broker (state `open`, part
 * fills included) whose leader order has filled is measured against its follower's rule, read
 * through the rules book so a chat change applies at the next tick:
 * - `keep`: nothing;
 * - `cancel`: the rest is cancelled through the executor, the reason in the copy (its alert line);
 * - `chase`: modified through the executor to a more marketable limit (domain/unfilled.ts), at most
 *   three times N seconds apart, then left working — said once.
 * Exits are never touched (they go at market or follow the leader). The leader's fill time is the
 * moment its row was saved `filled` (leader_orders.updated_at: written in the transaction that
 * booked the fill). The chase count lives in memory: a restart mid-chase may chase up to 3 more times.
 */
import type { FollowerRules } from '../domain/rules.js';
import { chasePrice, FRESH, MAX_CHASES, unfilledDecision, type UnfilledState } from '../domain/unfilled.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { CopyRow, Store } from '../store/index.js';
import type { CopyExecutor } from './copy-executor.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';

export interface UnfilledWatchDeps {
  store: Store;
  followers: Map<string, FollowerRuntime>;
  executor: CopyExecutor;
  instruments: InstrumentResolver;
  prices: PriceBoard;
  events: EngineEvents;
  clock: Clock;
  logger: Logger;
  leaderBroker: () => string;
  /** The follower's rules in force now (the rules book: env, then chat). */
  rules: (followerId: string) => FollowerRules;
  /** Tick period, ms (default 1000). */
  everyMs?: number;
}

const NOTE = ' · unfilled ';

export class UnfilledWatch {
  private readonly state = new Map<number, UnfilledState>();
  private readonly busy = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(private readonly d: UnfilledWatchDeps) {
    this.log = d.logger.child({ module: 'unfilled' });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.d.everyMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves when no cancel or chase sent by the watch is in flight (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.d.followers.values()].map((f) => f.idle()));
  }

  /** One pass. Returns the copies acted on (cancel, chase or leave) this time. */
  tick(): number {
    const active = [...this.d.followers.values()].filter((f) => {
      const r = this.d.rules(f.id);
      return r.unfilled !== 'keep' && r.unfilledAfterS !== null;
    });
    if (active.length === 0) {
      this.state.clear();
      return 0;
    }
    const ids = new Set(active.map((f) => f.id));
    const open = this.d.store.copies.inStates(['open']);
    const seen = new Set<number>();
    const now = this.d.clock.now();
    let acted = 0;
    for (const c of open) {
      seen.add(c.id);
      if (c.kind !== 'entry' || c.orderType !== 'LIMIT' || !c.followerOrderId || !ids.has(c.followerId) || this.busy.has(c.id)) continue;
      const f = this.d.followers.get(c.followerId)!;
      if (!f.sessionOk) continue;
      const r = this.d.rules(f.id);
      const leader = this.d.store.leader.get(c.leaderOrderId);
      const filledAt = leader && leader.status === 'filled' ? leader.updatedAt : null;
      const s = this.state.get(c.id) ?? FRESH;
      const a = unfilledDecision(r.unfilled, r.unfilledAfterS, filledAt, now, s);
      if (a.kind === 'none' || a.kind === 'wait') continue;
      acted += 1;
      const afterS = r.unfilledAfterS!;
      if (a.kind === 'cancel') {
        this.state.set(c.id, { ...s, done: true });
        const why = `unfilled ${afterS} s after the leader's fill (rule: cancel)`;
        // Written first: the broker's own "cancelled" push may move the copy before the executor's answer does.
        this.d.store.copies.update(c.id, { reason: why });
        this.track(c.id, this.d.executor.cancel(c.id, f.id, why));
        this.log.info({ follower: f.id, copy: c.id, afterS }, 'stale child: cancelling the unfilled entry copy');
      } else if (a.kind === 'leave') {
        this.state.set(c.id, { ...s, done: true });
        this.say(f.id, `${this.what(c)} is still unfilled after ${MAX_CHASES} chases: left working at ${c.price}. Cancel it or let it fill.`);
      } else {
        this.chase(f, c, a.attempt, afterS, now, s, leader?.avgPrice ?? 0);
      }
    }
    for (const id of this.state.keys()) if (!seen.has(id)) this.state.delete(id);
    return acted;
  }

  private chase(f: FollowerRuntime, c: CopyRow, attempt: number, afterS: number, now: number, s: UnfilledState, leaderAvg: number): void {
    const reference = this.d.prices.last(c) ?? (leaderAvg > 0 ? leaderAvg : null);
    const tick = this.d.instruments.lookup(f.master(this.d.leaderBroker()), c)?.tickSize ?? 0.05;
    const price = reference === null ? null : chasePrice({ side: c.side, current: c.price, reference, tick, attempt });
    if (price === null) {
      this.state.set(c.id, { ...s, done: true });
      const why = reference === null ? 'no price has been seen for it' : `no more marketable price stays within the protection band around ${reference}`;
      this.say(f.id, `${this.what(c)} is unfilled ${afterS} s after the leader's fill but is not chased: ${why}. Left working at ${c.price}.`);
      return;
    }
    this.state.set(c.id, { chases: attempt, lastChaseAt: now, done: false });
    const from = c.price;
    this.log.info({ follower: f.id, copy: c.id, attempt, from, to: price, reference }, 'stale child: chasing the unfilled entry copy');
    const done = this.d.executor.modify(c.id, f.id, { orderType: 'LIMIT', validity: c.validity, quantity: c.plannedQty, price }).then(() => {
      const row = this.d.store.copies.get(c.id);
      if (!row || row.price !== price) return; // refused: the executor said why
      const base = (row.reason ?? '').split(NOTE)[0] ?? '';
      this.d.store.copies.update(c.id, { reason: `${base}${NOTE}${afterS} s after the leader's fill: chased ${attempt}/${MAX_CHASES} to ${price}` });
      if (attempt === 1) this.say(f.id, `${this.what(c)} unfilled ${afterS} s after the leader's fill: chasing, limit ${from} → ${price} (1 of at most ${MAX_CHASES}).`);
    });
    this.track(c.id, done);
  }

  private track(copyId: number, p: Promise<void>): void {
    this.busy.add(copyId);
    void p.finally(() => this.busy.delete(copyId));
  }

  private what(c: CopyRow): string {
    return `${c.side} ${c.plannedQty} ${c.symbol} entry copy (leader ${c.leaderOrderId})`;
  }

  private say(followerId: string, message: string): void {
    this.log.info({ follower: followerId }, message);
    this.d.events.emit({ type: 'error', accountId: followerId, message });
  }
}
