/**
 * The fake Kite's accounts and order state machine (reference §2.3–§2.9, §4.2):
 * place → PUT ORDER REQ RECEIVED → VALIDATION PENDING → OPEN PENDING → OPEN | TRIGGER PENDING
 * (AMO: AMO REQ RECEIVED), then COMPLETE | CANCELLED | REJECTED; modify walks MODIFY VALIDATION
 * PENDING → MODIFY PENDING → MODIFIED → OPEN; every state is kept for GET /orders/:id.
 * Pushes follow the staff description: nothing for placement states (unless `pushOpenOnAccept`),
 * `UPDATE` for a modification or a partial fill, then COMPLETE / CANCELLED / REJECTED.
 */
import { randomBytes } from 'node:crypto';
import { type KiteFailure, type KiteOrderRow, type KiteStatus, fail, input, istStamp, kiteInstrument } from './kite-wire.js';

export interface FakeKiteAccount {
  apiKey: string;
  apiSecret: string;
  userId: string;
  accessToken: string | null;
  /** request token → expiry (epoch ms); single use. */
  requestTokens: Map<string, number>;
  orders: Map<string, KiteOrderRow>;
  history: Map<string, KiteOrderRow[]>;
  modifications: Map<string, number>;
  trades: KiteTrade[];
  positions: Map<string, KitePosition>;
  /** `exchange:tradingsymbol` → opening delivery holding (setHoldings). */
  holdings: Map<string, KiteHolding>;
  cash: number;
}

/** A delivery holding as seeded: the opening quantity (settled + T1). */
export interface KiteHolding {
  tradingsymbol: string;
  exchange: string;
  instrument_token: number;
  /** opening_quantity: settled + T1 at the start of the day. */
  qty: number;
  /** Part of `qty` bought on the previous trading day (t1_quantity). */
  t1Qty: number;
  average_price: number;
}

export interface KiteTrade {
  trade_id: string;
  order_id: string;
  exchange: string;
  tradingsymbol: string;
  instrument_token: number;
  product: string;
  average_price: number;
  quantity: number;
  exchange_order_id: string | null;
  transaction_type: string;
  fill_timestamp: string;
  order_timestamp: string;
  exchange_timestamp: string;
}

/**
 * One `net` position: `quantity` = `overnight_quantity` + today's buys − today's sells.
 * `buy_*`/`sell_*` here are TODAY's fills only; the `net` row adds the overnight part to its side
 * (as Kite's mock does: overnight 3 + day buy 1 = buy_quantity 4).
 */
export interface KitePosition {
  tradingsymbol: string;
  exchange: string;
  instrument_token: number;
  product: string;
  quantity: number;
  average_price: number;
  realised: number;
  buy_quantity: number;
  buy_value: number;
  sell_quantity: number;
  sell_value: number;
  /** Signed quantity carried in from earlier days (setOvernightPosition), and its average price. */
  overnight_quantity: number;
  overnight_price: number;
}

export type Params = Record<string, string>;
export type Push = (account: FakeKiteAccount, row: KiteOrderRow, status?: KiteStatus | 'UPDATE') => void;

const TERMINAL: ReadonlySet<KiteStatus> = new Set(['COMPLETE', 'CANCELLED', 'REJECTED']);
const ORDER_TYPES = new Set(['MARKET', 'LIMIT', 'SL', 'SL-M']);
const PRODUCTS = new Set(['CNC', 'NRML', 'MIS', 'MTF']);
const VALIDITIES = new Set(['DAY', 'IOC', 'TTL']);
export const MAX_MODIFICATIONS = 25;

let idSeq = 0;
/** 19-digit order ids (they exceed 2^53: a client that parses them as numbers breaks). */
const nextOrderId = (): string => String(1953341975595868160n + BigInt(++idSeq) * 7919n);
const nextExchangeId = (): string => String(1500000000000000 + idSeq);

export function newAccount(a: { apiKey: string; apiSecret: string; userId: string; accessToken?: string }): FakeKiteAccount {
  return {
    apiKey: a.apiKey,
    apiSecret: a.apiSecret,
    userId: a.userId,
    accessToken: a.accessToken ?? randomToken(),
    requestTokens: new Map(),
    orders: new Map(),
    history: new Map(),
    modifications: new Map(),
    trades: [],
    positions: new Map(),
    holdings: new Map(),
    cash: 10_00_000,
  };
}

export const randomToken = (): string => randomBytes(16).toString('hex');

const num = (v: string | undefined): number | null => {
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
};

export interface BookOptions {
  pushOpenOnAccept: boolean;
  requireMarketProtection: boolean;
  /** ms an accepted order spends in OPEN PENDING before OPEN (0 = at once). */
  openDelayMs: number;
}

export class KiteBook {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly opts: BookOptions,
    private readonly push: Push,
  ) {}

  /** Validate and accept a placement; an order id, or the failure Kite would answer. */
  place(acc: FakeKiteAccount, variety: string, p: Params): string | KiteFailure {
    if (variety !== 'regular' && variety !== 'amo') return input(`Invalid \`variety\`.`); // GUESS: co/iceberg/auction not modelled
    const inst = kiteInstrument(p.exchange ?? '', p.tradingsymbol ?? '');
    if (!p.tradingsymbol || !p.exchange) return input('Missing `tradingsymbol` or `exchange`.'); // GUESS: message
    if (!inst?.kite) return input('Invalid `tradingsymbol`.'); // GUESS: message
    if (p.transaction_type !== 'BUY' && p.transaction_type !== 'SELL') return input('Invalid `transaction_type`.');
    const orderType = p.order_type ?? '';
    if (!ORDER_TYPES.has(orderType)) return input('Invalid `order_type`.');
    if (!PRODUCTS.has(p.product ?? '')) return input('Invalid `product`.');
    const validity = p.validity ?? 'DAY';
    if (!VALIDITIES.has(validity)) return input('Invalid `validity`.');
    const qty = num(p.quantity);
    if (qty === null || !Number.isInteger(qty) || qty <= 0) return input('Invalid `quantity`.');
    if (qty % inst.lotSize !== 0) return input(`Quantity should be a multiple of lot size (${inst.lotSize}).`); // GUESS: message
    const price = num(p.price) ?? 0;
    const trigger = num(p.trigger_price) ?? 0;
    if ((orderType === 'LIMIT' || orderType === 'SL') && !(price > 0)) return input('Invalid `price`.');
    if ((orderType === 'SL' || orderType === 'SL-M') && !(trigger > 0)) return input('Invalid `trigger_price`.');
    const protection = num(p.market_protection);
    if (protection !== null && (Number.isNaN(protection) || protection < -1 || protection > 100)) {
      return input(`Invalid request (failed to decode market_protection, got: ${p.market_protection} (expected decimal))`);
    }
    if (this.opts.requireMarketProtection && (orderType === 'MARKET' || orderType === 'SL-M') && !protection) {
      return input('Market orders without market protection are not allowed via API. Please set market protection or use a Limit order.');
    }
    const tag = p.tag ?? '';
    if (tag !== '' && !/^[A-Za-z0-9]{1,20}$/.test(tag)) return input('`tag` should be alphanumeric and max 20 characters.'); // GUESS: message
    const now = istStamp();
    const row: KiteOrderRow = {
      account_id: acc.userId,
      placed_by: acc.userId,
      order_id: nextOrderId(),
      exchange_order_id: null,
      parent_order_id: null,
      status: 'PUT ORDER REQ RECEIVED',
      status_message: null,
      status_message_raw: null,
      order_timestamp: now,
      exchange_update_timestamp: null,
      exchange_timestamp: null,
      variety,
      modified: false,
      exchange: inst.kite.exchange,
      tradingsymbol: inst.kite.tradingsymbol,
      instrument_token: inst.kite.instrumentToken,
      order_type: orderType,
      transaction_type: p.transaction_type,
      validity,
      validity_ttl: 0,
      product: p.product ?? 'NRML',
      quantity: qty,
      disclosed_quantity: 0,
      price: orderType === 'LIMIT' || orderType === 'SL' ? price : 0,
      trigger_price: orderType === 'SL' || orderType === 'SL-M' ? trigger : 0,
      average_price: 0,
      filled_quantity: 0,
      pending_quantity: qty,
      cancelled_quantity: 0,
      market_protection: protection ?? 0,
      meta: {},
      tag: tag || null,
      ...(tag ? { tags: [tag] } : {}),
      guid: randomToken().slice(0, 20),
    };
    acc.orders.set(row.order_id, row);
    acc.history.set(row.order_id, []);
    this.record(acc, row);
    if (variety === 'amo') {
      this.to(acc, row, 'AMO REQ RECEIVED');
      return row.order_id;
    }
    this.to(acc, row, 'VALIDATION PENDING');
    this.to(acc, row, 'OPEN PENDING');
    const open = () => {
      if (row.status !== 'OPEN PENDING') return;
      row.exchange_order_id = nextExchangeId();
      row.exchange_timestamp = istStamp();
      this.to(acc, row, orderType === 'SL' || orderType === 'SL-M' ? 'TRIGGER PENDING' : 'OPEN');
      if (this.opts.pushOpenOnAccept) this.push(acc, row);
    };
    if (this.opts.openDelayMs > 0) this.later(open, this.opts.openDelayMs);
    else open();
    return row.order_id;
  }

  modify(acc: FakeKiteAccount, orderId: string, p: Params): KiteFailure | null {
    const row = acc.orders.get(orderId);
    if (!row) return input("Couldn't find that `order_id`."); // GUESS: message
    if (TERMINAL.has(row.status)) return fail(400, 'OrderException', `Order cannot be modified as it is ${row.status.toLowerCase()}.`); // GUESS
    const count = (acc.modifications.get(orderId) ?? 0) + 1;
    if (count > MAX_MODIFICATIONS) return fail(400, 'NetworkException', 'Maximum allowed order modifications exceeded.'); // staff: NetworkException; status GUESS
    const orderType = p.order_type ?? row.order_type;
    if (!ORDER_TYPES.has(orderType)) return input('Invalid `order_type`.');
    const qty = num(p.quantity) ?? row.quantity;
    const price = num(p.price) ?? row.price;
    const trigger = num(p.trigger_price) ?? row.trigger_price;
    if (!Number.isInteger(qty) || qty <= row.filled_quantity) return input('Quantity should be greater than the filled quantity.'); // GUESS
    const inst = kiteInstrument(row.exchange, row.tradingsymbol);
    if (inst && qty % inst.lotSize !== 0) return input(`Quantity should be a multiple of lot size (${inst.lotSize}).`);
    if ((orderType === 'LIMIT' || orderType === 'SL') && !(price > 0)) return input('Invalid `price`.');
    if ((orderType === 'SL' || orderType === 'SL-M') && !(trigger > 0)) return input('Invalid `trigger_price`.');
    acc.modifications.set(orderId, count);
    const working = row.status;
    this.to(acc, row, 'MODIFY VALIDATION PENDING');
    this.to(acc, row, 'MODIFY PENDING');
    row.order_type = orderType;
    row.quantity = qty;
    row.pending_quantity = qty - row.filled_quantity;
    row.price = orderType === 'LIMIT' || orderType === 'SL' ? price : 0;
    row.trigger_price = orderType === 'SL' || orderType === 'SL-M' ? trigger : 0;
    if (p.validity) row.validity = p.validity;
    row.modified = true;
    this.to(acc, row, 'MODIFIED');
    const back: KiteStatus = working === 'AMO REQ RECEIVED' || working === 'OPEN PENDING' ? working : orderType === 'SL' || orderType === 'SL-M' ? 'TRIGGER PENDING' : 'OPEN';
    this.to(acc, row, back);
    this.push(acc, row, 'UPDATE');
    return null;
  }

  cancel(acc: FakeKiteAccount, orderId: string): KiteFailure | null {
    const row = acc.orders.get(orderId);
    if (!row) return input("Couldn't find that `order_id`."); // GUESS
    if (TERMINAL.has(row.status)) return fail(400, 'OrderException', `Order cannot be cancelled as it is ${row.status.toLowerCase()}.`); // GUESS
    this.to(acc, row, 'CANCEL PENDING');
    row.cancelled_quantity = row.quantity - row.filled_quantity;
    row.pending_quantity = 0;
    this.to(acc, row, 'CANCELLED');
    this.push(acc, row);
    return null;
  }

  fill(acc: FakeKiteAccount, orderId: string, price: number, qty?: number): void {
    const row = acc.orders.get(orderId);
    if (!row) throw new Error(`fake kite: no order ${orderId}`);
    if (TERMINAL.has(row.status)) throw new Error(`fake kite: order ${orderId} is ${row.status}`);
    const remaining = row.quantity - row.filled_quantity;
    const q = Math.min(qty ?? remaining, remaining);
    if (!(q > 0)) throw new Error(`fake kite: nothing to fill on ${orderId}`);
    row.average_price = (row.average_price * row.filled_quantity + price * q) / (row.filled_quantity + q);
    row.filled_quantity += q;
    row.pending_quantity = row.quantity - row.filled_quantity;
    row.exchange_order_id ??= nextExchangeId();
    const now = istStamp();
    acc.trades.push({
      trade_id: String(10_000_000 + acc.trades.length + 1),
      order_id: row.order_id,
      exchange: row.exchange,
      tradingsymbol: row.tradingsymbol,
      instrument_token: row.instrument_token,
      product: row.product,
      average_price: price,
      quantity: q,
      exchange_order_id: row.exchange_order_id,
      transaction_type: row.transaction_type,
      fill_timestamp: now,
      order_timestamp: now.slice(11),
      exchange_timestamp: now,
    });
    bookPosition(acc, row, q, price);
    if (row.pending_quantity === 0) {
      this.to(acc, row, 'COMPLETE');
      this.push(acc, row);
    } else {
      if (row.status !== 'OPEN') this.to(acc, row, 'OPEN');
      else this.record(acc, row);
      this.push(acc, row, 'UPDATE');
    }
  }

  reject(acc: FakeKiteAccount, orderId: string, reason: string): void {
    const row = acc.orders.get(orderId);
    if (!row) throw new Error(`fake kite: no order ${orderId}`);
    if (TERMINAL.has(row.status)) throw new Error(`fake kite: order ${orderId} is ${row.status}`);
    row.status_message = reason;
    row.status_message_raw = reason;
    row.pending_quantity = 0;
    this.to(acc, row, 'REJECTED');
    this.push(acc, row);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private to(acc: FakeKiteAccount, row: KiteOrderRow, status: KiteStatus): void {
    row.status = status;
    row.exchange_update_timestamp = status === 'PUT ORDER REQ RECEIVED' || status === 'VALIDATION PENDING' ? null : istStamp();
    this.record(acc, row);
  }

  private record(acc: FakeKiteAccount, row: KiteOrderRow): void {
    acc.history.get(row.order_id)?.push(structuredClone(row));
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

function bookPosition(acc: FakeKiteAccount, row: KiteOrderRow, qty: number, price: number): void {
  const key = positionKey(row.exchange, row.tradingsymbol, row.product);
  const p = acc.positions.get(key) ?? {
    tradingsymbol: row.tradingsymbol,
    exchange: row.exchange,
    instrument_token: row.instrument_token,
    product: row.product,
    quantity: 0,
    average_price: 0,
    realised: 0,
    buy_quantity: 0,
    buy_value: 0,
    sell_quantity: 0,
    sell_value: 0,
    overnight_quantity: 0,
    overnight_price: 0,
  };
  const delta = row.transaction_type === 'BUY' ? qty : -qty;
  if (delta > 0) {
    p.buy_quantity += qty;
    p.buy_value += qty * price;
  } else {
    p.sell_quantity += qty;
    p.sell_value += qty * price;
  }
  if (p.quantity === 0 || Math.sign(p.quantity) === Math.sign(delta)) {
    p.average_price = (p.average_price * Math.abs(p.quantity) + price * qty) / (Math.abs(p.quantity) + qty);
    p.quantity += delta;
  } else {
    const closing = Math.min(qty, Math.abs(p.quantity));
    p.realised += (price - p.average_price) * closing * Math.sign(p.quantity);
    p.quantity += delta;
    if (qty > closing) p.average_price = price;
    if (p.quantity === 0) p.average_price = 0;
  }
  acc.positions.set(key, p);
}

const positionKey = (exchange: string, tradingsymbol: string, product: string) => `${exchange}:${tradingsymbol}:${product}`;

/** Replace the account's opening holdings (a qty-0 row is kept and listed with zeros); unknown symbols throw. */
export function seedHoldings(acc: FakeKiteAccount, holdings: readonly { tradingsymbol: string; exchange: string; qty: number; avgPrice: number; t1Qty?: number }[]): void {
  const next = new Map<string, KiteHolding>();
  for (const h of holdings) {
    const inst = kiteInstrument(h.exchange, h.tradingsymbol);
    if (!inst?.kite || (h.exchange !== 'NSE' && h.exchange !== 'BSE')) throw new Error(`fake kite: no equity ${h.exchange}:${h.tradingsymbol} to hold`);
    const t1Qty = h.t1Qty ?? 0;
    if (!Number.isInteger(h.qty) || h.qty < 0 || !Number.isInteger(t1Qty) || t1Qty < 0 || t1Qty > h.qty) throw new Error(`fake kite: bad holding ${JSON.stringify(h)}`);
    next.set(`${h.exchange}:${h.tradingsymbol}`, {
      tradingsymbol: h.tradingsymbol, exchange: h.exchange, instrument_token: inst.kite.instrumentToken, qty: h.qty, t1Qty, average_price: h.avgPrice,
    });
  }
  acc.holdings = next;
}

/**
 * Set one position carried in from earlier days (`qty` signed, 0 removes it). Seed before the day's
 * trading: a position that already has fills today is refused (its averages would be made up).
 */
export function seedOvernightPosition(acc: FakeKiteAccount, o: { tradingsymbol: string; exchange: string; product: string; qty: number; avgPrice: number }): void {
  const inst = kiteInstrument(o.exchange, o.tradingsymbol);
  if (!inst?.kite) throw new Error(`fake kite: unknown instrument ${o.exchange}:${o.tradingsymbol}`);
  if (!PRODUCTS.has(o.product) || !Number.isInteger(o.qty)) throw new Error(`fake kite: bad overnight position ${JSON.stringify(o)}`);
  const key = positionKey(o.exchange, o.tradingsymbol, o.product);
  const had = acc.positions.get(key);
  if (had && (had.buy_quantity > 0 || had.sell_quantity > 0)) throw new Error(`fake kite: ${key} already traded today; seed overnight positions first`);
  if (o.qty === 0) {
    acc.positions.delete(key);
    return;
  }
  acc.positions.set(key, {
    tradingsymbol: o.tradingsymbol, exchange: o.exchange, instrument_token: inst.kite.instrumentToken, product: o.product,
    quantity: o.qty, average_price: o.avgPrice, realised: 0, buy_quantity: 0, buy_value: 0, sell_quantity: 0, sell_value: 0,
    overnight_quantity: o.qty, overnight_price: o.avgPrice,
  });
}
