/** The fake Kite's read-only answers: profile, margins and positions rows (reference §1.2, §2.8, §2.9). */
import type { FakeKiteAccount, KitePosition } from './kite-book.js';

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

export function positionRow(p: KitePosition) {
  return {
    tradingsymbol: p.tradingsymbol,
    exchange: p.exchange,
    instrument_token: p.instrument_token,
    product: p.product,
    quantity: p.quantity,
    overnight_quantity: 0,
    multiplier: 1,
    average_price: p.average_price,
    close_price: 0,
    last_price: p.average_price,
    value: p.sell_value - p.buy_value,
    pnl: p.realised,
    m2m: p.realised,
    unrealised: 0,
    realised: p.realised,
    buy_quantity: p.buy_quantity,
    buy_price: p.buy_quantity ? p.buy_value / p.buy_quantity : 0,
    buy_value: p.buy_value,
    buy_m2m: p.buy_value,
    sell_quantity: p.sell_quantity,
    sell_price: p.sell_quantity ? p.sell_value / p.sell_quantity : 0,
    sell_value: p.sell_value,
    sell_m2m: p.sell_value,
    day_buy_quantity: p.buy_quantity,
    day_buy_price: p.buy_quantity ? p.buy_value / p.buy_quantity : 0,
    day_buy_value: p.buy_value,
    day_sell_quantity: p.sell_quantity,
    day_sell_price: p.sell_quantity ? p.sell_value / p.sell_quantity : 0,
    day_sell_value: p.sell_value,
  };
}
