/** Dhan v2 REST JSON shapes, as the reference documents them (only the fields the adapter reads). */

/** An order-book row (`GET /orders`, `/orders/{id}`, `/orders/external/{cid}`). */
export interface DhanOrderRow {
  dhanClientId?: string;
  orderId?: string;
  exchangeOrderId?: string;
  correlationId?: string | null;
  orderStatus?: string;
  transactionType?: string;
  exchangeSegment?: string;
  productType?: string;
  orderType?: string;
  validity?: string;
  tradingSymbol?: string;
  securityId?: string | number;
  quantity?: number | string;
  price?: number | string;
  triggerPrice?: number | string;
  afterMarketOrder?: boolean;
  createTime?: string;
  updateTime?: string;
  exchangeTime?: string;
  omsErrorCode?: string | null;
  omsErrorDescription?: string | null;
  remainingQuantity?: number | string;
  averageTradedPrice?: number | string;
  filledQty?: number | string;
}

/** `POST /orders` body. Fields that do not apply are left out (Dhan rejects empty strings). */
export interface DhanPlaceBody {
  dhanClientId: string;
  correlationId: string;
  transactionType: 'BUY' | 'SELL';
  exchangeSegment: string;
  productType: string;
  orderType: string;
  validity: string;
  securityId: string;
  quantity: number;
  price?: number;
  triggerPrice?: number;
  afterMarketOrder: boolean;
  amoTime?: string;
}

/** `PUT /orders/{id}` body. `quantity` is the order's new TOTAL, not what remains. */
export interface DhanModifyBody {
  dhanClientId: string;
  orderId: string;
  orderType: string;
  validity: string;
  quantity?: number;
  price?: number;
  triggerPrice?: number;
}

/** `POST/PUT/DELETE /orders…` response. */
export interface DhanOrderAck {
  orderId?: string;
  orderStatus?: string;
}

export interface DhanPositionRow {
  tradingSymbol?: string;
  securityId?: string | number;
  positionType?: string;
  exchangeSegment?: string;
  productType?: string;
  buyAvg?: number | string;
  sellAvg?: number | string;
  costPrice?: number | string;
  netQty?: number | string;
  realizedProfit?: number | string;
  unrealizedProfit?: number | string;
  /** Quantities carried in from earlier days (the opening position), long and short side. */
  carryForwardBuyQty?: number | string;
  carryForwardSellQty?: number | string;
  /** Today's traded quantities. `netQty` = carry-forward net + day net. */
  dayBuyQty?: number | string;
  daySellQty?: number | string;
}

/**
 * A `GET /holdings` row (reference §4.4). `totalQty` = `dpQty` (settled, in the demat) + `t1Qty`
 * (bought on the previous trading day, not settled yet); `availableQty` is what can still be sold
 * today and drops as holdings are sold, while `totalQty` stays until settlement.
 */
export interface DhanHoldingRow {
  /** "ALL": a holding is not tied to an exchange. */
  exchange?: string;
  tradingSymbol?: string;
  securityId?: string | number;
  isin?: string;
  totalQty?: number | string;
  dpQty?: number | string;
  t1Qty?: number | string;
  availableQty?: number | string;
  collateralQty?: number | string;
  avgCostPrice?: number | string;
}

/** `GET /fundlimit`. Mind the real wire spelling `availabelBalance`. */
export interface DhanFundLimit {
  availabelBalance?: number | string;
  availableBalance?: number | string;
  sodLimit?: number | string;
  utilizedAmount?: number | string;
  withdrawableBalance?: number | string;
}

export interface DhanProfile {
  dhanClientId?: string;
  tokenValidity?: string;
  activeSegment?: string;
}

export interface DhanRenewResponse {
  dhanClientId?: string;
  accessToken?: string;
  /** Some community code reads `token`; tolerate both. */
  token?: string;
  expiryTime?: string;
}

/** A number from a JSON number or numeric string; `fallback` otherwise. */
export function num(v: unknown, fallback = 0): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : fallback;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : fallback;
  }
  return fallback;
}

/** A non-empty trimmed string, or null (also for Dhan's "NA" and "null" placeholders). */
export function text(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return null;
  const s = v.trim();
  return s === '' || s === 'NA' || s === 'null' ? null : s;
}
