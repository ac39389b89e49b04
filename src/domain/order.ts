/**
 * The canonical order model. Every broker adapter normalises its wire format into these types
 * and back; the engine, store and bot speak only this language.
 */

/** Exchange segments, in Dhan's spelling (Kite's NSE/NFO/BSE/BFO/MCX/CDS map onto these). */
export const SEGMENTS = ['NSE_EQ', 'NSE_FNO', 'BSE_EQ', 'BSE_FNO', 'MCX_COMM', 'NSE_CURRENCY'] as const;
export type Segment = (typeof SEGMENTS)[number];

export type Side = 'BUY' | 'SELL';
export const ORDER_TYPES = ['MARKET', 'LIMIT', 'SL', 'SL-M'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];
/** CNC = delivery, INTRADAY = Dhan INTRADAY / Kite MIS, MARGIN = Dhan MARGIN / Kite NRML. */
export const PRODUCTS = ['CNC', 'INTRADAY', 'MARGIN'] as const;
export type Product = (typeof PRODUCTS)[number];
export type Validity = 'DAY' | 'IOC';

/**
 * Canonical order status.
 * - `transit`: the broker has the request but the exchange has not accepted it yet (Dhan TRANSIT,
 *   Kite PUT ORDER REQ RECEIVED / VALIDATION PENDING / OPEN PENDING). Not copied yet.
 * - `open`: working at the exchange (PENDING, OPEN, TRIGGER PENDING, PART_TRADED); `filledQty`
 *   tells a partial fill apart.
 * - terminal: `filled`, `cancelled`, `rejected`, `expired`.
 */
export const ORDER_STATUSES = ['transit', 'open', 'filled', 'cancelled', 'rejected', 'expired'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['filled', 'cancelled', 'rejected', 'expired']);
export function isTerminal(s: OrderStatus): boolean {
  return TERMINAL_STATUSES.has(s);
}

/** Identifies a tradable contract on one exchange segment. `securityId` is the exchange token. */
export interface InstrumentRef {
  segment: Segment;
  securityId: string;
  /** Broker trading symbol, for display and for brokers that address orders by symbol (Kite). */
  symbol: string;
}

export function instrumentKey(i: Pick<InstrumentRef, 'segment' | 'securityId'>): string {
  return `${i.segment}:${i.securityId}`;
}

/** An order as a broker reports it: an order-book row or a pushed update, normalised. */
export interface BrokerOrder {
  orderId: string;
  /** Our client tag (Dhan correlationId, Kite tag) when the order carries one. */
  tag: string | null;
  status: OrderStatus;
  instrument: InstrumentRef;
  side: Side;
  orderType: OrderType;
  product: Product;
  validity: Validity;
  /** After-market order. */
  amo: boolean;
  /** Total quantity of the order in units (shares, or contracts × lot size as the broker counts). */
  quantity: number;
  filledQty: number;
  /** Average fill price, 0 when nothing has filled. */
  avgPrice: number;
  /** Limit price, 0 for market orders. */
  price: number;
  triggerPrice: number;
  /** Broker or exchange reason text on rejection, verbatim. */
  reason: string | null;
  /** Exchange (or broker) time of this state as epoch ms, when the broker gives one. */
  exchangeTime: number | null;
}

/** What the engine asks a follower broker to place. */
export interface OrderRequest {
  tag: string;
  instrument: InstrumentRef;
  side: Side;
  orderType: OrderType;
  product: Product;
  validity: Validity;
  amo: boolean;
  quantity: number;
  /** Limit price (LIMIT, SL); omitted or 0 otherwise. */
  price?: number;
  /** Trigger price (SL, SL-M). */
  triggerPrice?: number;
  /** Hint for paper fills of market orders: the leader's price at the time. */
  referencePrice?: number;
}

/** A change to a working order. `quantity` is always the order's new total (Dhan's rule). */
export interface OrderChange {
  orderType: OrderType;
  validity: Validity;
  quantity?: number;
  price?: number;
  triggerPrice?: number;
}

export interface PlaceResult {
  orderId: string;
  status: OrderStatus;
}

export interface Position {
  instrument: InstrumentRef;
  product: Product;
  /** Signed: positive long, negative short. Overnight carry plus today's fills. */
  netQty: number;
  /**
   * Signed: the part of `netQty` carried from earlier days (the opening position). Today's buys
   * and sells are NOT in it, so `netQty - overnightQty` is today's net traded quantity.
   */
  overnightQty: number;
  avgPrice: number;
  realisedPnl: number;
  /** Unrealised P&L at the last known price, when the broker reports it. */
  unrealisedPnl: number;
}

/**
 * A delivery holding (product CNC implied) as it stood at the start of today: the baseline the
 * engine adds today's fills to. Not reduced by today's sells (those show up as a CNC position row).
 */
export interface Holding {
  instrument: InstrumentRef;
  /** Opening quantity at the start of today: settled (DP) + T1, not reduced by today's sells. */
  qty: number;
  avgPrice: number;
}

export interface Funds {
  available: number;
  used: number;
}

/** Signed quantity effect of a fill: BUY adds, SELL subtracts. */
export function signedQty(side: Side, qty: number): number {
  return side === 'BUY' ? qty : -qty;
}

export function opposite(side: Side): Side {
  return side === 'BUY' ? 'SELL' : 'BUY';
}
