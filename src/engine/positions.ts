/**
 * One position truth per account (leader and followers alike, invariant 9):
 *
 *   net = opening baseline (what the account held before today: the carried part of its broker
 *         positions and its delivery holdings, read at start-up and whenever a session comes back)
 *       + today's fills tandem counted itself, each (order id, cumulative filled quantity) once.
 *
 * The baseline never holds a fill of today, so a fill is never in both halves: a fill replayed by a
 * reconcile is recorded (and counted) only when its fill row is new. Entry-vs-exit and exit sizing
 * read only this book. Pure bookkeeping: loading from brokers and the fills table is in
 * position-loader.ts.
 */
import type { InstrumentRef, Product, Segment } from '../domain/order.js';
import { instrumentKey } from '../domain/order.js';

type Ref = Pick<InstrumentRef, 'segment' | 'securityId'>;

const key = (i: Ref, product: string) => `${instrumentKey(i)}:${product}`;

/** One signed quantity of an account in one instrument and product. */
export interface PositionLine {
  segment: Segment;
  securityId: string;
  symbol: string;
  product: Product;
  qty: number;
}

interface Cell {
  line: Omit<PositionLine, 'qty'>;
  baseline: number;
  day: number;
}

export class PositionBook {
  private readonly accounts = new Map<string, Map<string, Cell>>();

  private account(accountId: string): Map<string, Cell> {
    let m = this.accounts.get(accountId);
    if (!m) {
      m = new Map();
      this.accounts.set(accountId, m);
    }
    return m;
  }

  private cell(accountId: string, i: Ref & { symbol?: string }, product: Product): Cell {
    const m = this.account(accountId);
    const k = key(i, product);
    let c = m.get(k);
    if (!c) {
      c = { line: { segment: i.segment, securityId: i.securityId, symbol: i.symbol ?? '', product }, baseline: 0, day: 0 };
      m.set(k, c);
    }
    if (!c.line.symbol && i.symbol) c.line.symbol = i.symbol;
    return c;
  }

  /** Signed net quantity: positive long, negative short. */
  get(accountId: string, i: Ref, product: Product): number {
    const c = this.accounts.get(accountId)?.get(key(i, product));
    return c ? c.baseline + c.day : 0;
  }

  /** Count one new fill (the caller has just recorded it; a replay is never passed here). */
  add(accountId: string, i: Ref & { symbol?: string }, product: Product, signedQty: number): number {
    const c = this.cell(accountId, i, product);
    c.day += signedQty;
    return c.baseline + c.day;
  }

  /**
   * Replace an account's book: the opening baseline as the broker reports it now, and the fills of
   * today tandem has counted (from the fills table). Idempotent: run it as often as it is useful.
   */
  reset(accountId: string, baseline: PositionLine[], dayFills: PositionLine[]): void {
    this.accounts.set(accountId, new Map());
    for (const b of baseline) this.cell(accountId, b, b.product).baseline += b.qty;
    for (const f of dayFills) this.cell(accountId, f, f.product).day += f.qty;
  }

  /** Every non-zero line of an account. */
  lines(accountId: string): PositionLine[] {
    const out: PositionLine[] = [];
    for (const c of this.accounts.get(accountId)?.values() ?? []) {
      const qty = c.baseline + c.day;
      if (qty !== 0) out.push({ ...c.line, qty });
    }
    return out;
  }

  openCount(accountId: string): number {
    return this.lines(accountId).length;
  }
}
