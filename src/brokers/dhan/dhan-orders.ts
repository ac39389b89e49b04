/** Canonical orders ↔ Dhan REST bodies and order-book rows. Pure functions. */
import type { BrokerOrder, OrderChange, OrderRequest, Position } from '../../domain/order.js';
import { BrokerRejected } from '../port.js';
import { dhanOrderType, dhanProduct, orderTypeFromDhan, productFromDhan, segmentFromDhan, sideFromDhan, statusFromDhan, validityFromDhan } from './dhan-codes.js';
import { parseIstDateTime } from './dhan-time.js';
import type { DhanModifyBody, DhanOrderRow, DhanPlaceBody, DhanPositionRow } from './dhan-wire.js';
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
    avgPrice,
    realisedPnl: num(r.realizedProfit),
    unrealisedPnl: num(r.unrealizedProfit),
  };
}
