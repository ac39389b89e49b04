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
