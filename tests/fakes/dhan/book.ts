/**
 * The fake Dhan's order book: validation, the order state machine, trades, positions and funds.
 * TRANSIT → PENDING → PART_TRADED → TRADED, or CANCELLED / REJECTED (reference §3, §13.4).
 * Every transition is pushed through `push`. Answers are `{ status, body }` with Dhan's real bodies.
 */
import { fakeDhanInstrument } from './instruments.js';
import { ERR, type DhanStatus, type FakeDhanOrder, type FakeDhanTrade } from './wire.js';

export interface Answer {
  status: number;
  body: unknown;
}

type Body = Record<string, unknown>;

/** A delivery holding seeded as the account's opening state (`setHoldings`). */
export interface FakeDhanHoldingSeed {
  /** The NSE security id (holdings answer `exchange: "ALL"` with the NSE id). */
  securityId: string;
  tradingSymbol: string;
  /** Opening quantity: settled (DP) + T1. */
  qty: number;
  avgPrice: number;
  /** Part of `qty` bought on the previous trading day, not settled yet. Default 0. */
  t1Qty?: number;
}

/** A position carried in from earlier days (`setOvernightPosition`); `qty` signed, short < 0. */
export interface FakeDhanOvernightSeed {
  securityId: string;
  exchangeSegment: string;
  productType: string;
  qty: number;
  avgPrice: number;
}

/** Real ISINs of the fake's equities; GUESS for anything else (holdings carry an ISIN). */
const ISINS: Record<string, string> = { '2885': 'INE002A01018', '1333': 'INE040A01034', '1594': 'INE009A01021' };
const positionKey = (segment: string, securityId: string, product: string) => `${segment}:${securityId}:${product}`;

const SEGMENTS = new Set(['NSE_EQ', 'NSE_FNO', 'BSE_EQ', 'BSE_FNO', 'MCX_COMM', 'NSE_CURRENCY', 'BSE_CURRENCY']);
const PRODUCTS = new Set(['CNC', 'INTRADAY', 'MARGIN', 'MTF', 'CO', 'BO']);
const ORDER_TYPES = new Set(['LIMIT', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_MARKET']);
const VALIDITIES = new Set(['DAY', 'IOC']);
const WORKING: ReadonlySet<DhanStatus> = new Set(['TRANSIT', 'PENDING', 'PART_TRADED']);
const MAX_MODIFICATIONS = 25;

const bad = (): Answer => ({ status: 400, body: ERR.input });
const ok = (o: FakeDhanOrder): Answer => ({ status: 200, body: { orderId: o.orderId, orderStatus: o.status } });
const numeric = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};
const hasEmptyString = (b: Body) => Object.values(b).some((v) => v === '');

export class DhanBook {
  private readonly byId = new Map<string, FakeDhanOrder>();
  private readonly trades: FakeDhanTrade[] = [];
  /** clientId → opening delivery holdings. */
  private readonly holdingsBy = new Map<string, FakeDhanHoldingSeed[]>();
  /** clientId → positionKey → carried-forward position. */
  private readonly carryBy = new Map<string, Map<string, FakeDhanOvernightSeed>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;
  private tradeSeq = 0;
  transitDelayMs: number;

  constructor(opts: { transitDelayMs: number }, private readonly push: (o: FakeDhanOrder) => void) {
    this.transitDelayMs = opts.transitDelayMs;
  }

  /** POST /orders (source 'P') or a web-app order (source 'N'). */
  place(clientId: string, b: Body, source: 'P' | 'N'): Answer {
    if (hasEmptyString(b)) return bad(); // measured: documented "" placeholders are refused with DH-905
    const quantity = numeric(b.quantity);
    const price = numeric(b.price) ?? 0;
    const triggerPrice = numeric(b.triggerPrice) ?? 0;
    const orderType = String(b.orderType);
    const cid = b.correlationId;
    if (
      (b.transactionType !== 'BUY' && b.transactionType !== 'SELL') ||
      !SEGMENTS.has(String(b.exchangeSegment)) ||
      !PRODUCTS.has(String(b.productType)) ||
      !ORDER_TYPES.has(orderType) ||
      !VALIDITIES.has(String(b.validity)) ||
      typeof b.securityId !== 'string' ||
      quantity === undefined || !Number.isInteger(quantity) || quantity <= 0 ||
      (cid !== undefined && (typeof cid !== 'string' || !/^[A-Za-z0-9 _-]{1,25}$/.test(cid))) ||
      (b.dhanClientId !== undefined && b.dhanClientId !== clientId) || // GUESS: code for a foreign dhanClientId
      ((orderType === 'LIMIT' || orderType === 'STOP_LOSS') && !(price > 0)) || // GUESS: a limit without price → DH-905
      ((orderType === 'STOP_LOSS' || orderType === 'STOP_LOSS_MARKET') && !(triggerPrice > 0))
    ) {
      return bad();
    }
    const now = Date.now();
    this.seq += 1;
    const o: FakeDhanOrder = {
      clientId,
      // GUESS: id formats; real order ids are 12-13 digit numbers, exchange ids 16 digits.
      orderId: String(5_126_000_000_000 + this.seq),
      exchangeOrderId: String(1_100_000_000_000_000 + this.seq),
      // Documented: with no correlationId Dhan generates `<clientId>-<epoch ms>`; web orders push "".
      correlationId: typeof cid === 'string' ? cid : source === 'P' ? `${clientId}-${now}` : null,
      status: 'TRANSIT',
      transactionType: b.transactionType,
      exchangeSegment: String(b.exchangeSegment),
      securityId: b.securityId,
      productType: String(b.productType),
      orderType,
      validity: String(b.validity),
      quantity,
      filledQty: 0,
      averageTradedPrice: 0,
      lastTradedPrice: 0,
      price: orderType === 'MARKET' || orderType === 'STOP_LOSS_MARKET' ? 0 : price,
      triggerPrice,
      afterMarketOrder: b.afterMarketOrder === true,
      source,
      reason: 'CONFIRMED',
      modifications: 0,
      createdAt: now,
      updatedAt: now,
    };
    this.byId.set(o.orderId, o);
    this.push(o);
    this.later(() => this.leaveTransit(o));
    return ok(o);
  }

  /** PUT /orders/{id}. `quantity` is the new total. A modify during TRANSIT is accepted (measured). */
  modify(clientId: string, orderId: string, b: Body): Answer {
    if (hasEmptyString(b)) return bad();
    const o = this.byId.get(orderId);
    if (!o || o.clientId !== clientId) return { status: 400, body: ERR.noSuchOrder };
    const orderType = String(b.orderType);
    if (!ORDER_TYPES.has(orderType) || !VALIDITIES.has(String(b.validity)) || b.dhanClientId !== clientId || (b.orderId !== undefined && String(b.orderId) !== orderId)) return bad();
    // GUESS: Dhan's exact answer to modifying a finished order is undocumented; the generic DH-906 is used.
    if (!WORKING.has(o.status)) return { status: 400, body: ERR.noSuchOrder };
    // GUESS: the code for the 26th modification is unknown (reference §13.3).
    if (o.modifications >= MAX_MODIFICATIONS) return { status: 400, body: { ...ERR.noSuchOrder, errorMessage: 'Order modification limit exceeded' } };
    const quantity = b.quantity === undefined ? o.quantity : numeric(b.quantity);
    const price = b.price === undefined ? o.price : numeric(b.price);
    const trigger = b.triggerPrice === undefined ? o.triggerPrice : numeric(b.triggerPrice);
    if (quantity === undefined || !Number.isInteger(quantity) || quantity <= 0 || quantity < o.filledQty) return bad();
    if (price === undefined || trigger === undefined) return bad();
    if ((orderType === 'LIMIT' || orderType === 'STOP_LOSS') && !(price > 0)) return bad();
    if ((orderType === 'STOP_LOSS' || orderType === 'STOP_LOSS_MARKET') && !(trigger > 0)) return bad();
    o.orderType = orderType;
    o.validity = String(b.validity);
    o.quantity = quantity;
    o.price = orderType === 'MARKET' || orderType === 'STOP_LOSS_MARKET' ? 0 : price;
    o.triggerPrice = orderType === 'STOP_LOSS' || orderType === 'STOP_LOSS_MARKET' ? trigger : 0;
    o.modifications += 1;
    if (o.filledQty > 0 && o.filledQty >= o.quantity) o.status = 'TRADED';
    this.touch(o);
    return ok(o);
  }

  /** DELETE /orders/{id}. Refused during TRANSIT (measured) and on finished orders. */
  cancel(clientId: string, orderId: string): Answer {
    const o = this.byId.get(orderId);
    if (!o || o.clientId !== clientId) return { status: 400, body: ERR.noSuchOrder };
    if (o.status === 'TRANSIT') return { status: 400, body: ERR.inTransit };
    if (!WORKING.has(o.status)) return { status: 400, body: ERR.nothingToCancel };
    o.status = 'CANCELLED';
    this.touch(o);
    return ok(o);
  }

  /** Fill `qty` (default: all that remains) at `price`. Partial → PART_TRADED. */
  fill(orderId: string, price: number, qty?: number): FakeDhanOrder {
    const o = this.mustGet(orderId);
    if (o.status !== 'PENDING' && o.status !== 'PART_TRADED') throw new Error(`fake dhan: cannot fill order ${orderId} in ${o.status}`);
    const remaining = o.quantity - o.filledQty;
    const q = Math.min(remaining, qty ?? remaining);
    if (!(q > 0)) throw new Error(`fake dhan: nothing to fill on ${orderId}`);
    o.averageTradedPrice = Number(((o.averageTradedPrice * o.filledQty + price * q) / (o.filledQty + q)).toFixed(4));
    o.filledQty += q;
    o.lastTradedPrice = price;
    // GUESS: PART_TRADED is pushed on the socket ("in some cases" per implementers; the WS enum omits it).
    o.status = o.filledQty >= o.quantity ? 'TRADED' : 'PART_TRADED';
    this.tradeSeq += 1;
    this.trades.push({
      clientId: o.clientId, orderId: o.orderId, tradeId: String(90_000_000 + this.tradeSeq), transactionType: o.transactionType,
      exchangeSegment: o.exchangeSegment, securityId: o.securityId, productType: o.productType, quantity: q, price, at: Date.now(),
    });
    this.touch(o);
    return { ...o };
  }

  reject(orderId: string, reason: string): FakeDhanOrder {
    const o = this.mustGet(orderId);
    if (!WORKING.has(o.status)) throw new Error(`fake dhan: cannot reject order ${orderId} in ${o.status}`);
    o.status = 'REJECTED';
    o.reason = reason;
    this.touch(o);
    return { ...o };
  }

  get(orderId: string): FakeDhanOrder | undefined {
    return this.byId.get(orderId);
  }

  list(clientId: string): FakeDhanOrder[] {
    return [...this.byId.values()].filter((o) => o.clientId === clientId);
  }

  /** Measured: a TRANSIT order is not found by correlation id yet (404 DH-906). Latest match wins (GUESS). */
  byCorrelationId(clientId: string, cid: string): FakeDhanOrder | undefined {
    return this.list(clientId).filter((o) => o.correlationId === cid && o.status !== 'TRANSIT').at(-1);
  }

  tradesOf(clientId: string, orderId?: string): FakeDhanTrade[] {
    return this.trades.filter((t) => t.clientId === clientId && (!orderId || t.orderId === orderId));
  }

  /** Replace the account's opening holdings. A qty-0 row is kept (listed with zeros); none at all is an empty portfolio. */
  setHoldings(clientId: string, holdings: readonly FakeDhanHoldingSeed[]): void {
    for (const h of holdings) {
      if (!Number.isInteger(h.qty) || h.qty < 0 || !Number.isInteger(h.t1Qty ?? 0) || (h.t1Qty ?? 0) < 0 || (h.t1Qty ?? 0) > h.qty) {
        throw new Error(`fake dhan: bad holding ${JSON.stringify(h)}`);
      }
    }
    this.holdingsBy.set(clientId, holdings.map((h) => ({ ...h })));
  }

  /** Set (qty 0: remove) one position carried in from earlier days. */
  setOvernightPosition(clientId: string, p: FakeDhanOvernightSeed): void {
    if (!SEGMENTS.has(p.exchangeSegment) || !PRODUCTS.has(p.productType) || !Number.isInteger(p.qty)) throw new Error(`fake dhan: bad overnight position ${JSON.stringify(p)}`);
    const m = this.carryBy.get(clientId) ?? new Map<string, FakeDhanOvernightSeed>();
    const key = positionKey(p.exchangeSegment, p.securityId, p.productType);
    if (p.qty === 0) m.delete(key);
    else m.set(key, { ...p });
    this.carryBy.set(clientId, m);
  }

  /**
   * §4.4 rows, or null for an empty portfolio (the caller answers 500 DH-1111 or `[]`).
   * `totalQty` (DP + T1) stays put all day; `availableQty` drops as held shares are sold (CNC sell
   * fills on NSE_EQ in the same security id). GUESS: it drops on the fill, not when the order is
   * placed (a real sell order may block the quantity earlier).
   */
  holdings(clientId: string): Record<string, unknown>[] | null {
    const list = this.holdingsBy.get(clientId) ?? [];
    if (list.length === 0) return null;
    return list.map((h) => {
      const sold = this.tradesOf(clientId)
        .filter((t) => t.transactionType === 'SELL' && t.productType === 'CNC' && t.exchangeSegment === 'NSE_EQ' && t.securityId === h.securityId)
        .reduce((n, t) => n + t.quantity, 0);
      const t1Qty = h.t1Qty ?? 0;
      return {
        exchange: 'ALL', tradingSymbol: h.tradingSymbol, securityId: h.securityId, isin: ISINS[h.securityId] ?? `INE${h.securityId.padStart(6, '0')}01`,
        totalQty: h.qty, dpQty: h.qty - t1Qty, t1Qty, availableQty: Math.max(0, h.qty - sold), collateralQty: 0, avgCostPrice: h.avgPrice,
        lastTradedPrice: h.avgPrice, mtf_t1_qty: 0, mtf_qty: 0,
      };
    });
  }

  /**
   * §4.3 rows: the carried-forward positions plus this account's fills today. `carryForward*` is the
   * opening position, `day*` today's fills, `buyQty`/`sellQty` both together, and
   * `netQty = (carryForwardBuyQty − carryForwardSellQty) + (dayBuyQty − daySellQty)`.
   * Delivery sells of held shares appear here as a CNC row with `daySellQty` and a negative
   * `netQty` (holdings are not positions). GUESSES: no live prices, so unrealizedProfit is 0;
   * buyAvg/sellAvg average carry and day together; realised P&L is matched quantity × spread.
   */
  positions(clientId: string): Record<string, unknown>[] {
    interface Acc { segment: string; securityId: string; product: string; cfBuy: number; cfBuyVal: number; cfSell: number; cfSellVal: number; dayBuy: number; dayBuyVal: number; daySell: number; daySellVal: number }
    const acc = new Map<string, Acc>();
    const get = (segment: string, securityId: string, product: string): Acc => {
      const key = positionKey(segment, securityId, product);
      let a = acc.get(key);
      if (!a) {
        a = { segment, securityId, product, cfBuy: 0, cfBuyVal: 0, cfSell: 0, cfSellVal: 0, dayBuy: 0, dayBuyVal: 0, daySell: 0, daySellVal: 0 };
        acc.set(key, a);
      }
      return a;
    };
    for (const c of this.carryBy.get(clientId)?.values() ?? []) {
      const a = get(c.exchangeSegment, c.securityId, c.productType);
      if (c.qty > 0) {
        a.cfBuy = c.qty;
        a.cfBuyVal = c.qty * c.avgPrice;
      } else {
        a.cfSell = -c.qty;
        a.cfSellVal = -c.qty * c.avgPrice;
      }
    }
    for (const t of this.tradesOf(clientId)) {
      const a = get(t.exchangeSegment, t.securityId, t.productType);
      if (t.transactionType === 'BUY') {
        a.dayBuy += t.quantity;
        a.dayBuyVal += t.quantity * t.price;
      } else {
        a.daySell += t.quantity;
        a.daySellVal += t.quantity * t.price;
      }
    }
    return [...acc.values()].map((a) => {
      const inst = fakeDhanInstrument(a.securityId, a.segment);
      const buyQty = a.cfBuy + a.dayBuy;
      const sellQty = a.cfSell + a.daySell;
      const buyAvg = buyQty ? (a.cfBuyVal + a.dayBuyVal) / buyQty : 0;
      const sellAvg = sellQty ? (a.cfSellVal + a.daySellVal) / sellQty : 0;
      const netQty = a.cfBuy - a.cfSell + (a.dayBuy - a.daySell);
      return {
        dhanClientId: clientId, tradingSymbol: inst?.symbol ?? '', securityId: a.securityId,
        positionType: netQty > 0 ? 'LONG' : netQty < 0 ? 'SHORT' : 'CLOSED', exchangeSegment: a.segment, productType: a.product,
        buyAvg, costPrice: netQty >= 0 ? buyAvg : sellAvg, buyQty, sellAvg, sellQty, netQty,
        realizedProfit: Math.min(buyQty, sellQty) * (sellAvg - buyAvg), unrealizedProfit: 0,
        rbiReferenceRate: 1, multiplier: 1,
        carryForwardBuyQty: a.cfBuy, carryForwardSellQty: a.cfSell, carryForwardBuyValue: a.cfBuyVal, carryForwardSellValue: a.cfSellVal,
        dayBuyQty: a.dayBuy, daySellQty: a.daySell, dayBuyValue: a.dayBuyVal, daySellValue: a.daySellVal,
        drvExpiryDate: inst?.expiry ?? '0001-01-01', drvOptionType: inst?.optionType === 'CE' ? 'CALL' : inst?.optionType === 'PE' ? 'PUT' : 'NA',
        drvStrikePrice: inst?.strike ?? 0, crossCurrency: false,
      };
    });
  }

  /** GUESS: utilised = value of open positions; available = start-of-day limit - utilised + realised. */
  funds(clientId: string, sodLimit: number): Record<string, unknown> {
    let used = 0;
    let realised = 0;
    for (const p of this.positions(clientId)) {
      used += Math.abs(Number(p.netQty)) * Number(p.costPrice);
      realised += Number(p.realizedProfit);
    }
    const available = sodLimit - used + realised;
    return {
      dhanClientId: clientId, availabelBalance: available, sodLimit, collateralAmount: 0, receiveableAmount: 0,
      utilizedAmount: used, blockedPayoutAmount: 0, withdrawableBalance: Math.max(0, available),
    };
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private leaveTransit(o: FakeDhanOrder): void {
    if (o.status !== 'TRANSIT') return;
    const inst = fakeDhanInstrument(o.securityId, o.exchangeSegment);
    if (inst && o.quantity % inst.lotSize !== 0) {
      o.status = 'REJECTED';
      // GUESS: wording of the RMS lot-multiple rejection.
      o.reason = `RMS:${o.orderId}:Quantity should be multiple of lot size ${inst.lotSize}`;
    } else {
      o.status = 'PENDING';
    }
    this.touch(o);
  }

  /** Run `fn` after the TRANSIT delay: 0 = immediate but asynchronous (a macrotask later). */
  private later(fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, this.transitDelayMs);
    this.timers.add(t);
  }

  private touch(o: FakeDhanOrder): void {
    o.updatedAt = Date.now();
    this.push(o);
  }

  private mustGet(orderId: string): FakeDhanOrder {
    const o = this.byId.get(orderId);
    if (!o) throw new Error(`fake dhan: no order ${orderId}`);
    return o;
  }
}
