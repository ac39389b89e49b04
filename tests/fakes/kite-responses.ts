/** The fake Kite's read-only answers: profile, margins, positions and holdings rows (reference §1.2, §2.8–§2.10). */
import type { FakeKiteAccount, KiteHolding, KitePosition } from './kite-book.js';

export function profile(acc: FakeKiteAccount) {
  return {
    user_id: acc.userId,
    user_type: 'individual',
    email: `${acc.userId.toLowerCase()}@example.com`,
    user_name: `Fake ${acc.userId}`,
    user_shortname: acc.userId,
    broker: 'ZERODHA',
    exchanges: ['NSE', 'NFO', 'BFO', 'CDS', 'BSE', 'MCX', 'BCD', 'MF'],
    products: ['CNC', 'NRML', 'MIS', 'BO', 'CO'],
    order_types: ['MARKET', 'LIMIT', 'SL', 'SL-M'],
    avatar_url: null,
    meta: { demat_consent: 'consent' },
  };
}

export function margins(acc: FakeKiteAccount, cash = acc.cash) {
  let used = 0;
  if (cash > 0) for (const p of acc.positions.values()) used += Math.abs(p.quantity) * p.average_price;
  return {
    enabled: true,
    net: cash - used,
    available: { adhoc_margin: 0, cash, opening_balance: cash, live_balance: cash - used, collateral: 0, intraday_payin: 0 },
    utilised: {
      debits: used, exposure: 0, m2m_realised: 0, m2m_unrealised: 0, option_premium: 0, payout: 0, span: used,
      holding_sales: 0, turnover: 0, liquid_collateral: 0, stock_collateral: 0, delivery: 0,
    },
  };
}

const avg = (value: number, qty: number) => (qty ? value / qty : 0);

/**
 * A `net` row (reference §2.9): the whole position. `quantity` = `overnight_quantity` + day buys −
 * day sells; `buy_*`/`sell_*` include the overnight part on its side, `day_*` only today's fills.
 */
export function positionRow(p: KitePosition) {
  const onLong = Math.max(p.overnight_quantity, 0);
  const onShort = Math.max(-p.overnight_quantity, 0);
  const buyQty = p.buy_quantity + onLong;
  const buyValue = p.buy_value + onLong * p.overnight_price;
  const sellQty = p.sell_quantity + onShort;
  const sellValue = p.sell_value + onShort * p.overnight_price;
  return {
    tradingsymbol: p.tradingsymbol,
    exchange: p.exchange,
    instrument_token: p.instrument_token,
    product: p.product,
    quantity: p.quantity,
    overnight_quantity: p.overnight_quantity,
    multiplier: 1,
    average_price: p.average_price,
    close_price: p.overnight_price,
    last_price: p.average_price,
    value: sellValue - buyValue,
    pnl: p.realised,
    m2m: p.realised,
    unrealised: 0,
    realised: p.realised,
    buy_quantity: buyQty,
    buy_price: avg(buyValue, buyQty),
    buy_value: buyValue,
    buy_m2m: buyValue,
    sell_quantity: sellQty,
    sell_price: avg(sellValue, sellQty),
    sell_value: sellValue,
    sell_m2m: sellValue,
    ...dayFields(p),
  };
}

/** A `day` row: today's fills only (`overnight_quantity` 0, `quantity` = day buys − day sells). */
export function dayPositionRow(p: KitePosition) {
  const quantity = p.buy_quantity - p.sell_quantity;
  const buyPrice = avg(p.buy_value, p.buy_quantity);
  const sellPrice = avg(p.sell_value, p.sell_quantity);
  const matched = Math.min(p.buy_quantity, p.sell_quantity);
  return {
    tradingsymbol: p.tradingsymbol,
    exchange: p.exchange,
    instrument_token: p.instrument_token,
    product: p.product,
    quantity,
    overnight_quantity: 0,
    multiplier: 1,
    average_price: quantity > 0 ? buyPrice : quantity < 0 ? sellPrice : 0,
    close_price: 0,
    last_price: p.average_price,
    value: p.sell_value - p.buy_value,
    pnl: matched * (sellPrice - buyPrice),
    m2m: matched * (sellPrice - buyPrice),
    unrealised: 0,
    realised: matched * (sellPrice - buyPrice),
    buy_quantity: p.buy_quantity,
    buy_price: buyPrice,
    buy_value: p.buy_value,
    buy_m2m: p.buy_value,
    sell_quantity: p.sell_quantity,
    sell_price: sellPrice,
    sell_value: p.sell_value,
    sell_m2m: p.sell_value,
    ...dayFields(p),
  };
}

function dayFields(p: KitePosition) {
  return {
    day_buy_quantity: p.buy_quantity,
    day_buy_price: avg(p.buy_value, p.buy_quantity),
    day_buy_value: p.buy_value,
    day_sell_quantity: p.sell_quantity,
    day_sell_price: avg(p.sell_value, p.sell_quantity),
    day_sell_value: p.sell_value,
  };
}

/** Real ISINs of the fake's equities; GUESS for the rest. */
const ISINS: Record<string, string> = { RELIANCE: 'INE002A01018', HDFCBANK: 'INE040A01034', INFY: 'INE009A01021' };

/**
 * A holdings row (reference §2.10, fields as in the official mock holdings.json).
 * `opening_quantity` = settled + T1 at the start of the day, unchanged all day; `quantity` is the
 * settled part, `t1_quantity` the unsettled part; today's delivery (CNC) sells of it count in
 * `used_quantity`. GUESS: `quantity` is not reduced by a same-day sell (the shares leave the demat
 * at settlement).
 */
export function holdingRow(acc: FakeKiteAccount, h: KiteHolding) {
  const used = acc.trades
    .filter((t) => t.transaction_type === 'SELL' && t.product === 'CNC' && t.exchange === h.exchange && t.tradingsymbol === h.tradingsymbol)
    .reduce((n, t) => n + t.quantity, 0);
  const settled = h.qty - h.t1Qty;
  return {
    tradingsymbol: h.tradingsymbol,
    exchange: h.exchange,
    instrument_token: h.instrument_token,
    isin: ISINS[h.tradingsymbol] ?? 'INE000A01000',
    product: 'CNC',
    price: 0,
    quantity: settled,
    used_quantity: used,
    t1_quantity: h.t1Qty,
    realised_quantity: settled,
    authorised_quantity: 0,
    authorised_date: '2026-01-01 00:00:00',
    authorisation: {},
    opening_quantity: h.qty,
    short_quantity: 0,
    collateral_quantity: 0,
    collateral_type: '',
    discrepancy: false,
    average_price: h.average_price,
    last_price: h.average_price,
    close_price: h.average_price,
    pnl: 0,
    day_change: 0,
    day_change_percentage: 0,
    mtf: { quantity: 0, used_quantity: 0, average_price: 0, value: 0, initial_margin: 0 },
  };
}
