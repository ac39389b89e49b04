/** Canonical orders ↔ Dhan REST bodies and order-book rows. Pure functions. */
import type { BrokerOrder, Holding, OrderChange, OrderRequest, Position, Segment } from '../../domain/order.js';
import { BrokerRejected } from '../port.js';
import { dhanOrderType, dhanProduct, orderTypeFromDhan, productFromDhan, segmentFromDhan, sideFromDhan, statusFromDhan, validityFromDhan } from './dhan-codes.js';
import { parseIstDateTime } from './dhan-time.js';
import type { DhanHoldingRow, DhanModifyBody, DhanOrderRow, DhanPlaceBody, DhanPositionRow } from './dhan-wire.js';
import { num, text } from './dhan-wire.js';

/** Dhan accepts at most 25 characters (measured), letters, digits, space, `_` and `-`. */
const CORRELATION_ID = /^[A-Za-z0-9 _-]{1,25}$/;

const needsPrice = (t: string) => t === 'LIMIT' || t === 'SL';
const needsTrigger = (t: string) => t === 'SL' || t === 'SL-M';

/**
 * `POST /orders` body. Prices are sent only where the order type uses them and only when positive;
 * nothing is ever sent as an empty string. AMO orders go at market open (`amoTime: OPEN`).
 */
export function toPlaceBody(clientId: string, o: OrderRequest): DhanPlaceBody {
  if (!CORRELATION_ID.test(o.tag)) throw new BrokerRejected('LOCAL-TAG', `Tag "${o.tag}" is not a valid Dhan correlationId (1-25 of A-Z a-z 0-9 space _ -)`);
  const body: DhanPlaceBody = {
    dhanClientId: clientId,
    correlationId: o.tag,
    transactionType: o.side,
    exchangeSegment: o.instrument.segment,
    productType: dhanProduct(o.product),
    orderType: dhanOrderType(o.orderType),
    validity: o.validity,
    securityId: o.instrument.securityId,
    quantity: o.quantity,
    afterMarketOrder: o.amo,
  };
  if (needsPrice(o.orderType) && o.price !== undefined && o.price > 0) body.price = o.price;
  if (needsTrigger(o.orderType) && o.triggerPrice !== undefined && o.triggerPrice > 0) body.triggerPrice = o.triggerPrice;
  if (o.amo) body.amoTime = 'OPEN';
  return body;
}

/** `PUT /orders/{id}` body; `change.quantity` is the new total (Dhan's rule and ours). */
export function toModifyBody(clientId: string, orderId: string, c: OrderChange): DhanModifyBody {
  const body: DhanModifyBody = { dhanClientId: clientId, orderId, orderType: dhanOrderType(c.orderType), validity: c.validity };
  if (c.quantity !== undefined) body.quantity = c.quantity;
  if (needsPrice(c.orderType) && c.price !== undefined && c.price > 0) body.price = c.price;
  if (needsTrigger(c.orderType) && c.triggerPrice !== undefined && c.triggerPrice > 0) body.triggerPrice = c.triggerPrice;
  return body;
}

export type Decoded<T> = { ok: true; value: T; warning?: string } | { ok: false; error: string };

/** An order-book row → BrokerOrder. Rows in segments/products/types the model lacks are refused. */
export function orderFromRow(r: DhanOrderRow): Decoded<BrokerOrder> {
  const orderId = text(r.orderId);
  const segment = segmentFromDhan(r.exchangeSegment);
  const securityId = text(r.securityId);
  const side = sideFromDhan(r.transactionType);
  const orderType = orderTypeFromDhan(r.orderType);
  const product = productFromDhan(r.productType);
  if (!orderId || !segment || !securityId || !side || !orderType || !product) {
    return { ok: false, error: `order row ${orderId ?? '?'} not mappable (segment ${String(r.exchangeSegment)}, side ${String(r.transactionType)}, type ${String(r.orderType)}, product ${String(r.productType)})` };
  }
  const { status, known } = statusFromDhan(r.orderStatus);
  const reasonText = text(r.omsErrorDescription);
  const value: BrokerOrder = {
    orderId,
    tag: text(r.correlationId),
    status,
    instrument: { segment, securityId, symbol: text(r.tradingSymbol) ?? '' },
    side,
    orderType,
    product,
    validity: validityFromDhan(r.validity),
    amo: r.afterMarketOrder === true,
    quantity: num(r.quantity),
    filledQty: num(r.filledQty),
    avgPrice: num(r.averageTradedPrice),
    price: num(r.price),
    triggerPrice: num(r.triggerPrice),
    reason: reasonText && reasonText.toUpperCase() !== 'CONFIRMED' ? reasonText : null,
    exchangeTime: parseIstDateTime(r.updateTime) ?? parseIstDateTime(r.exchangeTime),
  };
  return known ? { ok: true, value } : { ok: true, value, warning: `order ${orderId}: unknown status ${String(r.orderStatus)} treated as transit` };
}

/** A `/positions` row → Position (null when its segment or product is outside the model). */
export function positionFromRow(r: DhanPositionRow): Position | null {
  const segment = segmentFromDhan(r.exchangeSegment);
  const product = productFromDhan(r.productType);
  const securityId = text(r.securityId);
  if (!segment || !product || !securityId) return null;
  const netQty = num(r.netQty);
  const avgPrice = netQty > 0 ? num(r.buyAvg, num(r.costPrice)) : netQty < 0 ? num(r.sellAvg, num(r.costPrice)) : 0;
  return {
    instrument: { segment, securityId, symbol: text(r.tradingSymbol) ?? '' },
    product,
    netQty,
    overnightQty: overnightQtyOf(r, netQty),
    avgPrice,
    realisedPnl: num(r.realizedProfit),
    unrealisedPnl: num(r.unrealizedProfit),
  };
}

const present = (v: unknown): boolean => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');

/**
 * The part of `netQty` carried in from earlier days: `carryForwardBuyQty − carryForwardSellQty`.
 * A row without the carry-forward fields falls back to `netQty − (dayBuyQty − daySellQty)` (with
 * neither, the whole position counts as carried: nothing says any of it was traded today).
 */
function overnightQtyOf(r: DhanPositionRow, netQty: number): number {
  if (present(r.carryForwardBuyQty) || present(r.carryForwardSellQty)) return num(r.carryForwardBuyQty) - num(r.carryForwardSellQty);
  return netQty - (num(r.dayBuyQty) - num(r.daySellQty));
}

/**
 * A `/holdings` row → Holding (null without a security id, or with nothing held).
 *
 * - qty = `totalQty` (DP + T1), the opening quantity. Not `availableQty`: that drops intraday as
 *   held shares are sold, while `totalQty` stays put until the sale settles, which is what the
 *   baseline needs (today's sell is counted from the order, and shows in /positions as a CNC row).
 *   Without `totalQty`, `dpQty + t1Qty`.
 * - segment: holdings say `exchange: "ALL"`. Decision: Dhan's equity security ids in holdings are
 *   the NSE ones, so a holding is NSE_EQ (BSE_EQ only if a row ever names exchange BSE).
 */
export function holdingFromRow(r: DhanHoldingRow): Holding | null {
  const securityId = text(r.securityId);
  if (!securityId) return null;
  const qty = present(r.totalQty) ? num(r.totalQty) : num(r.dpQty) + num(r.t1Qty);
  if (!(qty > 0)) return null;
  const segment: Segment = text(r.exchange)?.toUpperCase() === 'BSE' ? 'BSE_EQ' : 'NSE_EQ';
  return { instrument: { segment, securityId, symbol: text(r.tradingSymbol) ?? '' }, qty, avgPrice: num(r.avgCostPrice) };
}
