/**
 * Profit and loss from fills, marked to market: cash flow plus open quantity at the last price
 * seen for the instrument. Pure.
 */

export interface FillLike {
  at: number;
  side: 'BUY' | 'SELL';
  qty: number;
  price: number;
  /** Instrument key (segment:securityId). */
  key: string;
}

export interface PnlPoint {
  at: number;
  pnl: number;
}

/** Total P&L after all `fills`, marking open quantity at `marks` (fallback: the last fill price). */
export function pnlOf(fills: FillLike[], marks: (key: string) => number | null = () => null): number {
  const cash = new Map<string, number>();
  const qty = new Map<string, number>();
  const last = new Map<string, number>();
  for (const f of fills) {
    const sign = f.side === 'BUY' ? 1 : -1;
    cash.set(f.key, (cash.get(f.key) ?? 0) - sign * f.qty * f.price);
    qty.set(f.key, (qty.get(f.key) ?? 0) + sign * f.qty);
    last.set(f.key, f.price);
  }
  let total = 0;
  for (const [k, c] of cash) total += c + (qty.get(k) ?? 0) * (marks(k) ?? last.get(k) ?? 0);
  return total;
}

/**
 * P&L through the day: one point per fill time, marking every open position at the latest price
 * seen so far in `marksFrom` (all accounts' fills: the same instrument is marked alike for the
 * leader and its followers).
 */
export function pnlSeries(fills: FillLike[], marksFrom: FillLike[]): PnlPoint[] {
  const times = [...new Set(fills.map((f) => f.at))].sort((a, b) => a - b);
  const marks = [...marksFrom].sort((a, b) => a.at - b.at);
  const out: PnlPoint[] = [];
  for (const t of times) {
    const priceAt = new Map<string, number>();
    for (const m of marks) if (m.at <= t) priceAt.set(m.key, m.price);
    out.push({ at: t, pnl: pnlOf(fills.filter((f) => f.at <= t), (k) => priceAt.get(k) ?? null) });
  }
  return out;
}

/**
 * The part of today's fills that is today's own trading: `carried(key)` is the signed quantity the
 * account held in that position before today (its opening baseline). A fill that reduces the
 * position closes today's own open quantity first, then the carried quantity — that part is left
 * out (its price at the start of the day is not known, so its P&L cannot be told) — and any rest
 * opens a new position of today. Fills must be in time order.
 */
export function todaysLots(fills: FillLike[], carried: (key: string) => number): FillLike[] {
  const day = new Map<string, number>();
  const left = new Map<string, number>();
  const out: FillLike[] = [];
  for (const f of fills) {
    const sign = f.side === 'BUY' ? 1 : -1;
    const own = day.get(f.key) ?? 0;
    const old = left.has(f.key) ? left.get(f.key)! : carried(f.key);
    let qty = f.qty;
    // Closing today's own quantity counts; closing the carried quantity does not.
    const closesOwn = Math.sign(own) === -sign ? Math.min(qty, Math.abs(own)) : 0;
    qty -= closesOwn;
    const closesCarried = Math.sign(old) === -sign ? Math.min(qty, Math.abs(old)) : 0;
    qty -= closesCarried;
    left.set(f.key, old + sign * closesCarried);
    const counted = closesOwn + qty;
    day.set(f.key, own + sign * counted);
    if (counted > 0) out.push(counted === f.qty ? f : { ...f, qty: counted });
  }
  return out;
}

/** A price seen for an instrument, and when. */
export interface Mark {
  price: number;
  at: number;
}

export interface DayPnl {
  /** Realised + open P&L of today's own trading; null when an open position has no price. */
  pnl: number | null;
  /** Today's own positions still open, each with the mark it was valued at (null: no price). */
  open: { key: string; qty: number; mark: Mark | null }[];
  /** When the stalest mark of an open position was seen; null when nothing is open or unpriced. */
  oldestMarkAt: number | null;
}

/**
 * Today's P&L of an account's own trading (see `todaysLots`): cash flow of today's fills plus what
 * is still open marked at `marks(key)`, else at the last fill price of that key (fills are prices
 * seen too). Uses `pnlOf` for the sum.
 */
export function dayPnl(fills: FillLike[], carried: (key: string) => number, marks: (key: string) => Mark | null): DayPnl {
  const lastFill = new Map<string, Mark>();
  for (const f of fills) if (f.price > 0) lastFill.set(f.key, { price: f.price, at: f.at });
  const lots = todaysLots(fills, carried);
  const qty = new Map<string, number>();
  for (const f of lots) qty.set(f.key, (qty.get(f.key) ?? 0) + (f.side === 'BUY' ? f.qty : -f.qty));
  const open: DayPnl['open'] = [];
  for (const [key, q] of qty) {
    if (q === 0) continue;
    const seen = marks(key);
    const fill = lastFill.get(key) ?? null;
    open.push({ key, qty: q, mark: seen && (!fill || seen.at >= fill.at) ? seen : (fill ?? seen) });
  }
  const priced = open.every((o) => o.mark !== null);
  const markOf = new Map(open.map((o) => [o.key, o.mark?.price ?? null]));
  return {
    pnl: priced ? pnlOf(lots, (k) => markOf.get(k) ?? null) : null,
    open,
    oldestMarkAt: priced && open.length ? Math.min(...open.map((o) => o.mark!.at)) : null,
  };
}
