/**
 * Each follower's daily loss limit (issue 17: FOLLOWER_<ID>_MAX_DAILY_LOSS_INR, _ON_MAX_LOSS).
 *
 * P&L is that of the follower's own trading today (domain/pnl.ts `dayPnl`): the fills tandem
 * recorded for it today, plus what those left open marked at the last price tandem has seen (leader
 * fills, follower fills, quotes). What it carried in from earlier days does not count — its price at
 * the start of the day is not known — and a sale of it is not taken for a new short (the opening
 * baseline comes from the position book).
 *
 * When that P&L falls to −limit: entries stop for the follower until the next IST day (persisted in
 * the settings table, so a restart keeps it), one error alert; with `flatten` its working entry
 * copies are cancelled and its positions closed through the kill switch's flatten, once per day,
 * no taps asked (the owner set the rule). Exits always continue. An open position with no price
 * fails closed for entries only, with the reason.
 *
 * Evaluated after each follower fill (the engine's hook), on price updates (throttled), on a timer
 * in market hours (which also asks for quotes when a mark is old), and when asked (`entryBlock`,
 * `status`): all in memory, today's fills are cached per follower.
 */
import type { Broker } from '../brokers/port.js';
import { BrokerRejected } from '../brokers/port.js';
import type { InstrumentRef, Segment } from '../domain/order.js';
import { instrumentKey } from '../domain/order.js';
import { dayPnl, type DayPnl, type FillLike, type Mark } from '../domain/pnl.js';
import type { FollowerRules, OnMaxLoss } from '../domain/rules.js';
import { istDayStart, isMarketHours } from '../domain/time.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { Store } from '../store/index.js';
import type { EngineEvents } from './events.js';
import type { FollowerRuntime } from './follower.js';
import type { FlattenResult } from './kill-switch.js';
import type { PositionBook } from './positions.js';

export interface LossStatus {
  pnlInr: number | null;
  limitInr: number;
  headroomInr: number | null;
  stopped: boolean;
  markAgeMs: number | null;
  why: string | null;
}

/** A follower's stop, persisted for the IST day it happened. */
interface StopRecord {
  day: number;
  at: number;
  pnlInr: number;
  limitInr: number;
  onMaxLoss: OnMaxLoss;
  /** The flatten of that day: started (once; never again that day), or done. */
  flatten: 'none' | 'started' | 'done';
}

interface Evaluation {
  day: number;
  limit: number;
  result: DayPnl;
}

export interface LossGuardDeps {
  store: Store;
  positions: PositionBook;
  prices: PriceBoard;
  clock: Clock;
  log: Logger;
  events: EngineEvents;
  followers: Map<string, FollowerRuntime>;
  leader: Broker;
  leaderBroker: () => string;
  /** The follower's rules in force (env, then chat). */
  rules: (followerId: string) => FollowerRules;
  /**
   * The kill switch's flatten of one follower: its working copies (entries too) cancelled first, then
   * its positions closed with freeze-sliced MARKET orders.
   */
  flatten: (followerId: string) => Promise<FlattenResult>;
  /** Timer period, ms (default 15 s); in market hours only. */
  everyMs?: number;
  /** A mark older than this is refreshed by a quote on the timer, ms (default 60 s). */
  quoteAfterMs?: number;
}

const STOP_KEY = (id: string) => `loss-stop:${id}`;
const PRICE_THROTTLE_MS = 1_000;
const REFUSED_FOR_MS = 60 * 60_000;
/** Quotes: 1 request/s per account (Dhan and Kite), kept with a margin. */
const QUOTE_SPACING_MS = 1_100;
const wholeInr = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 0 });

/** -₹25,300 (whole rupees, as the chat shows them). */
export function rupees(n: number): string {
  return `${n < 0 ? '-' : ''}₹${wholeInr.format(Math.abs(n))}`;
}

/** The reason an entry is skipped once the limit is reached (also the copy's skip reason). */
export function stopReason(pnlInr: number, limitInr: number): string {
  return `loss limit: ${rupees(pnlInr)} ≤ ${rupees(-limitInr)} today; entries stopped until the next trading day`;
}

const positionKey = (f: { segment: string; securityId: string; product: string }) => `${f.segment}:${f.securityId}:${f.product}`;

function refOfKey(key: string, symbol: string): InstrumentRef {
  const [segment, securityId] = key.split(':') as [Segment, string];
  return { segment, securityId, symbol };
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

export class LossGuard {
  private readonly fills = new Map<string, { day: number; rows: FillLike[]; symbols: Map<string, string> }>();
  private readonly stops = new Map<string, StopRecord | null>();
  private readonly seenAt = new Map<string, number>();
  /** Instrument keys of each follower's open positions of today (a price for one re-evaluates it). */
  private readonly watched = new Map<string, Set<string>>();
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly refused = new Map<string, number>();
  private readonly askedAt = new Map<string, number>();
  private readonly quoting = new Set<string>();
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly d: LossGuardDeps) {
    this.unsubscribe = d.prices.onPrice((key) => this.onPrice(key));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer = setInterval(() => this.tick(), this.d.everyMs ?? 15_000);
    this.timer.unref();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.scheduled.values()) clearTimeout(t);
    this.scheduled.clear();
    this.unsubscribe();
  }

  /** Why entries are stopped for this follower today (its loss limit reached, or its P&L cannot be evaluated: fails closed for entries only), or null. */
  entryBlock(followerId: string): string | null {
    const ev = this.evaluate(followerId);
    if (!ev) return null;
    const stop = this.stopOf(followerId, ev);
    if (stop) return stopReason(stop.pnlInr, stop.limitInr);
    return this.unpriced(followerId, ev);
  }

  /** For /rules and /status; null when the follower has no loss limit. */
  status(followerId: string): LossStatus | null {
    const ev = this.evaluate(followerId);
    if (!ev) return null;
    const stop = this.stopOf(followerId, ev);
    const pnl = ev.result.pnl;
    const oldest = ev.result.oldestMarkAt;
    return {
      pnlInr: pnl,
      limitInr: ev.limit,
      headroomInr: pnl === null ? null : pnl + ev.limit,
      stopped: stop !== null,
      markAgeMs: oldest === null ? null : Math.max(0, this.d.clock.now() - oldest),
      why: stop ? stopReason(stop.pnlInr, stop.limitInr) : this.unpriced(followerId, ev),
    };
  }

  /** A fill of this follower was booked (the engine's hook): read today's fills again and evaluate. */
  onFill(followerId: string): void {
    this.fills.delete(followerId);
    this.evaluate(followerId);
  }

  /**
   * Today's P&L against the limit; trips the stop when it is reached. Null when the follower has no
   * limit (or is unknown).
   */
  evaluate(followerId: string): Evaluation | null {
    const f = this.d.followers.get(followerId);
    const limit = f ? this.d.rules(followerId).maxDailyLossInr : null;
    if (!f || limit === null) {
      this.watched.delete(followerId);
      return null;
    }
    const now = this.d.clock.now();
    const day = istDayStart(now);
    const today = this.todaysFills(followerId, day);
    const dayNet = new Map<string, number>();
    for (const x of today.rows) dayNet.set(x.key, (dayNet.get(x.key) ?? 0) + (x.side === 'BUY' ? x.qty : -x.qty));
    const carried = (key: string) => {
      const [segment, securityId, product] = key.split(':') as [Segment, string, Parameters<PositionBook['get']>[2]];
      return this.d.positions.get(followerId, { segment, securityId }, product) - (dayNet.get(key) ?? 0);
    };
    const result = dayPnl(today.rows, carried, (key) => this.markOf(key));
    const ev: Evaluation = { day, limit, result };
    this.watched.set(followerId, new Set(result.open.map((o) => o.key.split(':').slice(0, 2).join(':'))));
    if (result.pnl !== null && result.pnl <= -limit && !this.stopOf(followerId, ev)) this.trip(f, ev, result.pnl);
    return ev;
  }

  /** The stop in force today, or null (a limit raised above the one that tripped lifts it). */
  private stopOf(followerId: string, ev: Evaluation): StopRecord | null {
    let rec = this.stops.get(followerId);
    if (rec === undefined) {
      rec = this.d.store.settings.get<StopRecord>(STOP_KEY(followerId)) ?? null;
      this.stops.set(followerId, rec);
    }
    return rec && rec.day === ev.day && ev.limit <= rec.limitInr ? rec : null;
  }

  private unpriced(followerId: string, ev: Evaluation): string | null {
    if (ev.result.pnl !== null) return null;
    const names = this.fills.get(followerId)?.symbols;
    const missing = ev.result.open.filter((o) => o.mark === null).map((o) => `${names?.get(o.key) ?? o.key} (${o.qty})`);
    return `loss limit cannot be checked: no price seen for ${missing.join(', ')}; entries held until one is seen`;
  }

  private todaysFills(followerId: string, day: number) {
    const hit = this.fills.get(followerId);
    if (hit && hit.day === day) return hit;
    const symbols = new Map<string, string>();
    const rows = this.d.store.fills.since(followerId, day).map((x) => {
      const key = positionKey(x);
      symbols.set(key, x.symbol);
      return { at: x.at, side: x.side, qty: x.qty, price: x.price, key };
    });
    const out = { day, rows, symbols };
    this.fills.set(followerId, out);
    return out;
  }

  /** The last price tandem has seen for a position key's instrument, and when (0: before this process watched). */
  private markOf(key: string): Mark | null {
    const [segment, securityId] = key.split(':') as [Segment, string];
    const price = this.d.prices.last({ segment, securityId });
    return price === null ? null : { price, at: this.seenAt.get(`${segment}:${securityId}`) ?? 0 };
  }

  private trip(f: FollowerRuntime, ev: Evaluation, pnl: number): void {
    const now = this.d.clock.now();
    const mode = this.d.rules(f.id).onMaxLoss;
    const before = this.stops.get(f.id);
    const sameDay = before && before.day === ev.day ? before : null;
    // The flatten runs once a day: a stop tripped again the same day (the limit raised) does not repeat it.
    const flattenedToday = sameDay !== null && sameDay.flatten !== 'none';
    const rec: StopRecord = { day: ev.day, at: now, pnlInr: pnl, limitInr: ev.limit, onMaxLoss: mode, flatten: mode === 'flatten' && !flattenedToday ? 'started' : (sameDay?.flatten ?? 'none') };
    this.persist(f.id, rec);
    const what =
      mode !== 'flatten'
        ? 'Its open positions are kept (ON_MAX_LOSS=stop).'
        : flattenedToday
          ? 'Its positions were already flattened once today: not again.'
          : 'ON_MAX_LOSS=flatten: cancelling its working copies and closing its positions at market now.';
    this.d.log.warn({ follower: f.id, pnl, limit: ev.limit, mode }, 'loss limit reached: entries stopped');
    this.d.events.emit({
      type: 'error',
      accountId: f.id,
      message: `Loss limit reached: P&L today ${rupees(pnl)} ≤ ${rupees(-ev.limit)} (limit ${rupees(ev.limit)}). Entries stopped for ${f.id} until the next trading day; exits are still copied. ${what}`,
    });
    if (mode === 'flatten' && !flattenedToday) void this.flatten(f, rec);
  }

  private persist(followerId: string, rec: StopRecord): void {
    this.d.store.settings.set(STOP_KEY(followerId), rec, this.d.clock.now(), null);
    this.stops.set(followerId, { ...rec });
  }

  /** The kill switch's flatten of this follower (working copies cancelled first), then the result said. */
  private async flatten(f: FollowerRuntime, rec: StopRecord): Promise<void> {
    try {
      const r = await this.d.flatten(f.id);
      await f.idle();
      this.persist(f.id, { ...rec, flatten: 'done' });
      const placed = r.placed.map((c) => this.d.store.copies.get(c.id) ?? c).map((c) => `${c.side} ${c.plannedQty} ${c.symbol} (${c.state}${c.state === 'failed' || c.state === 'rejected' ? `: ${c.reason ?? ''}` : ''})`);
      const parts = [
        placed.length ? `${placed.length} closing order(s) at market: ${placed.join('; ')}` : 'no open position to close',
        `${r.cancelled.length} working cop${r.cancelled.length === 1 ? 'y' : 'ies'} cancelled first`,
        ...(r.notCancelled.length ? [`${r.notCancelled.length} still working (the broker refused the cancel)`] : []),
        ...r.unread.map((u) => `positions could not be read: ${u.error} — nothing closed, use /flatten ${f.id}`),
      ];
      this.d.events.emit({ type: 'error', accountId: f.id, message: `Loss-limit flatten of ${f.id}: ${parts.join('; ')}.` });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.d.log.error({ follower: f.id, err: msg }, 'loss-limit flatten failed');
      this.d.events.emit({ type: 'error', accountId: f.id, message: `Loss-limit flatten of ${f.id} failed: ${msg}. Not retried today; check its positions (/positions ${f.id}, /flatten ${f.id}).` });
    }
  }

  private onPrice(key: string): void {
    this.seenAt.set(key, this.d.clock.now());
    if (!this.running) return;
    for (const [id, keys] of this.watched) if (keys.has(key)) this.schedule(id);
  }

  /** One evaluation at most per second per follower from price updates. */
  private schedule(followerId: string): void {
    if (this.scheduled.has(followerId)) return;
    const t = setTimeout(() => {
      this.scheduled.delete(followerId);
      if (this.running) this.evaluate(followerId);
    }, PRICE_THROTTLE_MS);
    t.unref();
    this.scheduled.set(followerId, t);
  }

  private tick(): void {
    const now = this.d.clock.now();
    if (!isMarketHours(now)) return;
    for (const f of this.d.followers.values()) {
      const ev = this.evaluate(f.id);
      if (!ev || this.stopOf(f.id, ev)) continue;
      const stale = ev.result.open.filter((o) => !o.mark || now - o.mark.at >= (this.d.quoteAfterMs ?? 60_000));
      if (stale.length) void this.quote(f, stale.map((o) => refOfKey(o.key, this.fills.get(f.id)?.symbols.get(o.key) ?? '')));
    }
  }

  /**
   * Last traded prices for `refs` (the follower's own instruments): from the follower's broker,
   * else the leader's when it trades from the same master. An account whose plan refuses market
   * data is not asked again for an hour; each account is asked at most once a second.
   */
  private async quote(f: FollowerRuntime, refs: InstrumentRef[]): Promise<void> {
    if (this.quoting.has(f.id)) return;
    this.quoting.add(f.id);
    try {
      const accounts: { id: string; broker: Broker }[] = [];
      if (f.sessionOk && f.broker.kind !== 'paper' && f.broker.kind !== 'sim') accounts.push({ id: f.id, broker: f.broker });
      const leader = this.d.leaderBroker();
      if (f.master(leader) === leader && leader !== 'sim' && leader !== 'paper') accounts.push({ id: 'leader', broker: this.d.leader });
      for (const a of accounts) {
        const now = this.d.clock.now();
        if ((this.refused.get(a.id) ?? 0) > now || now - (this.askedAt.get(a.id) ?? -Infinity) < QUOTE_SPACING_MS) continue;
        this.askedAt.set(a.id, now);
        try {
          const got = await a.broker.ltp(refs);
          let all = true;
          for (const r of refs) {
            const p = got.get(instrumentKey(r));
            if (p && p > 0) this.d.prices.publish(r, p);
            else all = false;
          }
          if (all) return;
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          if (e instanceof BrokerRejected) this.refused.set(a.id, this.d.clock.now() + REFUSED_FOR_MS);
          this.d.log.info({ follower: f.id, account: a.id, err: msg }, 'quote for the loss limit refused or failed');
        }
      }
    } finally {
      this.quoting.delete(f.id);
    }
  }
}

/** How fresh the marks are, for /rules and /status: "marks up to 12 s old", "no open position". */
export function markFreshness(s: LossStatus): string {
  if (s.pnlInr === null) return 'no price for an open position';
  return s.markAgeMs === null ? 'no open position' : `marks up to ${age(s.markAgeMs)} old`;
}
