/**
 * The value of a leader MARKET entry, which carries no price when it is placed. Asked only when a
 * value gate (the approval threshold, a follower's MAX_ORDER_VALUE) needs one, and never on the hot
 * path of anything else: the engine first waits a bounded moment for the leader's own fill; this
 * module is what comes after that — the last price tandem has seen, else a last-traded-price quote
 * from any configured account that gives one (a plan without market data refuses; that account is
 * then not asked again for an hour), else the reasons, said in the approval request.
 */
import type { Broker } from '../brokers/port.js';
import { BrokerRateLimited, BrokerRejected } from '../brokers/port.js';
import type { BrokerOrder, InstrumentRef } from '../domain/order.js';
import { instrumentKey } from '../domain/order.js';
import { splitEntryExit } from '../domain/sizing.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PriceBoard } from '../infra/price-board.js';
import type { Valuation } from './copy-planner.js';
import { valueGated, type ApprovalRules } from './entry-gate.js';
import type { FollowerRuntime } from './follower.js';
import type { InstrumentResolver } from './instruments.js';

/** One account that may be asked for a quote, with the instrument as its own master lists it. */
export interface QuoteAccount {
  id: string;
  broker: Broker;
  ref: InstrumentRef | null;
}

const REFUSED_FOR_MS = 60 * 60_000;
/** Dhan and Kite allow one quote request a second per account. */
const RATE_WAIT_MS = 1000;

export class MarketValuer {
  /** Accounts whose plan refused market data, until when they are not asked again. */
  private readonly refused = new Map<string, number>();

  constructor(
    private readonly prices: PriceBoard,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly timeoutMs = 800,
  ) {}

  /**
   * The last price seen, else the first quote an account gives. `waited` says how long the
   * leader's own fill was waited for (it goes into the reason when nothing else is found).
   */
  async value(leaderRef: InstrumentRef, accounts: QuoteAccount[], waitedMs: number): Promise<Valuation> {
    const seen = this.prices.last(leaderRef);
    if (seen) return { price: { price: seen, source: `last price seen @ ${seen}` }, why: null };
    const tried: string[] = [];
    const limited: QuoteAccount[] = [];
    for (const a of accounts) {
      const p = await this.ask(a, tried, limited);
      if (p !== null) return this.found(leaderRef, a, p);
    }
    // Quotes are allowed once a second per account: a busy second is waited out once, not given up.
    if (limited.length) {
      await new Promise((r) => setTimeout(r, RATE_WAIT_MS));
      for (const a of limited) {
        const p = await this.ask(a, tried, []);
        if (p !== null) return this.found(leaderRef, a, p);
      }
    }
    const fill = `no leader fill within ${waitedMs} ms`;
    return { price: null, why: [fill, 'no price seen', tried.length ? `quotes: ${tried.join('; ')}` : 'no account to quote'].join(', ') };
  }

  private found(leaderRef: InstrumentRef, a: QuoteAccount, p: number): Valuation {
    this.prices.publish(leaderRef, p);
    return { price: { price: p, source: `quote from ${a.id} @ ${p}` }, why: null };
  }

  /** One account's quote, or null (why is added to `tried`; a rate-limited account to `limited`). */
  private async ask(a: QuoteAccount, tried: string[], limited: QuoteAccount[]): Promise<number | null> {
    if (!a.ref) return null;
    const until = this.refused.get(a.id);
    if (until !== undefined && until > this.clock.now()) {
      tried.push(`${a.id}: refuses market data`);
      return null;
    }
    try {
      const got = await this.bounded(a.broker.ltp([a.ref]));
      const p = got.get(instrumentKey(a.ref));
      if (p && p > 0) return p;
      tried.push(`${a.id}: no price for ${a.ref.symbol}`);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (e instanceof BrokerRejected) this.refused.set(a.id, this.clock.now() + REFUSED_FOR_MS);
      if (e instanceof BrokerRateLimited) limited.push(a);
      tried.push(`${a.id}: ${msg}`);
      this.log.info({ account: a.id, err: msg }, 'quote for a market entry refused or failed');
    }
    return null;
  }

  private bounded<T>(p: Promise<T>): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`no answer in ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(t));
  }
}

/** A leader MARKET entry held back briefly for its own fill price. */
interface Held {
  u: BrokerOrder;
  since: number;
  timer: NodeJS.Timeout;
}

export interface HoldDeps {
  approval: ApprovalRules | undefined;
  followers: () => Iterable<FollowerRuntime>;
  /** The accounts to ask for a quote of the leader's instrument (the leader first). */
  quoteAccounts: (leaderRef: InstrumentRef) => QuoteAccount[];
  /** After the wait: mirror the order with this valuation, unless an update did it meanwhile. */
  mirror: (u: BrokerOrder, valuation: Valuation) => void;
  waitMs: number;
}

/**
 * The wait before a MARKET entry is valued. A working leader entry with no price at all, when a
 * value gate is set, is not mirrored at once: its fill (milliseconds later) brings the price, and
 * that update mirrors it as usual. If none comes within `waitMs`, the entry is valued by the
 * MarketValuer and mirrored then. Exits never wait; without a value gate nothing waits.
 */
export class MarketEntryHold {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly d: HoldDeps,
    private readonly valuer: MarketValuer,
  ) {}

  /** An update for the order came: stop its wait. Returns when the wait began (to bound a new one). */
  release(orderId: string): number | null {
    const h = this.held.get(orderId);
    if (!h) return null;
    clearTimeout(h.timer);
    this.held.delete(orderId);
    return h.since;
  }

  isHeld(orderId: string): boolean {
    return this.held.has(orderId);
  }

  /** Whether this first sight of `u` should wait for its price (see the class comment). */
  shouldHold(u: BrokerOrder, leaderNet: number, since: number, now: number): boolean {
    if (this.d.waitMs <= 0 || u.status !== 'open' || now - since >= this.d.waitMs) return false;
    if (u.price > 0 || u.triggerPrice > 0 || u.avgPrice > 0) return false;
    // Exits never wait: an order that reduces the leader's position is mirrored at once.
    if (splitEntryExit(u.side, u.quantity, leaderNet).exitQty > 0) return false;
    return valueGated(this.d.approval, this.d.followers());
  }

  hold(u: BrokerOrder, since: number, now: number): void {
    const t = setTimeout(() => void this.afterWait(u.orderId), Math.max(0, since + this.d.waitMs - now));
    t.unref();
    this.held.set(u.orderId, { u, since, timer: t });
  }

  /** Still held while the quote is asked: an update meanwhile releases it and mirrors it itself. */
  private async afterWait(orderId: string): Promise<void> {
    const h = this.held.get(orderId);
    if (!h) return;
    const valuation = await this.valuer.value(h.u.instrument, this.d.quoteAccounts(h.u.instrument), this.d.waitMs);
    if (this.held.get(orderId) !== h) return;
    this.held.delete(orderId);
    this.d.mirror(h.u, valuation);
  }

  stop(): void {
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
  }
}

/**
 * The accounts that may quote the leader's instrument: the leader first, then each follower with
 * the instrument as its own master lists it (null when it does not: that follower is not asked).
 */
export function quoteAccountsOf(leader: Broker, followers: () => Iterable<FollowerRuntime>, instruments: InstrumentResolver): (ref: InstrumentRef) => QuoteAccount[] {
  return (ref) => [
    { id: 'leader', broker: leader, ref },
    ...[...followers()].map((f) => {
      const r = instruments.resolve(leader.kind, f.master(leader.kind), ref);
      return { id: f.id, broker: f.broker, ref: r.ok ? r.instrument : null };
    }),
  ];
}
