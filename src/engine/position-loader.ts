/**
 * Fills the position book of one account from its broker and the fills table: the opening
 * baseline (the carried part of each position, delivery holdings) plus the fills of today tandem
 * has recorded. Run at start-up, when a session comes back, and once a day after midnight IST.
 *
 * Delivery (CNC) comes from holdings only: holdings carry what was bought on earlier days (settled
 * and T1); today's CNC buys and sells are today's fills. The carried part of a position of another
 * product is its overnight quantity (Dhan carryForwardBuyQty − carryForwardSellQty, Kite
 * overnight_quantity).
 */
import type { Broker } from '../brokers/port.js';
import { signedQty } from '../domain/order.js';
import { istDayStart } from '../domain/time.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Store } from '../store/index.js';
import type { EngineEvents } from './events.js';
import type { PositionBook, PositionLine } from './positions.js';

/** By this time after IST midnight brokers have rolled the day's positions into the carried part. */
const ROLLED_BY_MS = 9 * 3600_000;

export class PositionLoader {
  /** Accounts whose baseline could not be read: retried on every reconcile until it can. */
  readonly unread = new Set<string>();
  /** IST day (start, epoch ms) each account's baseline was read for. */
  private readonly day = new Map<string, number>();

  constructor(
    private readonly book: PositionBook,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly events: EngineEvents,
    private readonly log: Logger,
  ) {}

  /** Today's counted fills of an account, as signed lines. */
  private dayFills(accountId: string, since: number): PositionLine[] {
    return this.store.fills.since(accountId, since).map((f) => ({
      segment: f.segment,
      securityId: f.securityId,
      symbol: f.symbol,
      product: f.product,
      qty: signedQty(f.side, f.qty),
    }));
  }

  /**
   * Read the account's baseline and rebuild its book. Until the first read succeeds the book holds
   * today's counted fills alone (so exits of carried positions are not recognised: said loudly).
   */
  async load(accountId: string, broker: Broker): Promise<boolean> {
    const since = istDayStart(this.clock.now());
    try {
      const [positions, holdings] = await Promise.all([broker.positions(), broker.holdings()]);
      const baseline: PositionLine[] = [];
      for (const p of positions) {
        if (p.product === 'CNC' || p.overnightQty === 0) continue;
        baseline.push({ ...p.instrument, product: p.product, qty: p.overnightQty });
      }
      for (const h of holdings) if (h.qty !== 0) baseline.push({ ...h.instrument, product: 'CNC', qty: h.qty });
      // The fills are read after the broker answered: a fill recorded meanwhile is in the table (and
      // not in the baseline, which holds nothing of today).
      this.book.reset(accountId, baseline, this.dayFills(accountId, since));
      this.day.set(accountId, since);
      if (this.unread.delete(accountId)) this.log.info({ account: accountId }, 'positions and holdings read; the position book is complete again');
      this.log.info({ account: accountId, carried: baseline.length, open: this.book.openCount(accountId) }, 'position book loaded');
      return true;
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      if (!this.day.has(accountId)) this.book.reset(accountId, [], this.dayFills(accountId, since));
      if (!this.unread.has(accountId)) {
        this.unread.add(accountId);
        this.log.warn({ account: accountId, err }, 'could not read positions or holdings; retrying with every reconcile');
        this.events.emit({
          type: 'error',
          accountId,
          message: `Could not read ${accountId}'s positions or holdings: ${err}. Until they are read, what ${accountId} carried from earlier days is unknown to tandem (a sale of it counts as a new short). Retrying with every reconcile.`,
        });
      }
      return false;
    }
  }

  /**
   * True when the account's baseline is missing, or was read on an earlier IST day and it is past
   * 09:00 IST (brokers roll yesterday's trades into the carried part before the market opens; a
   * read just after midnight could still see them as today's).
   */
  due(accountId: string): boolean {
    const now = this.clock.now();
    const today = istDayStart(now);
    return this.unread.has(accountId) || (this.day.get(accountId) !== today && now >= today + ROLLED_BY_MS);
  }
}
