/**
 * A Kite order object (order-book row, history row, or the `data` of a WebSocket order frame; they
 * share one shape) → the canonical BrokerOrder. Pure; never throws: a row it cannot read comes back
 * as a string saying why.
 */
import type { BrokerOrder } from '../../domain/order.js';
import {
  istToEpochMs,
  orderTypeFromKite,
  productFromKite,
  segmentFromKite,
  sideFromKite,
  statusFromKite,
  validityFromKite,
} from './kite-codes.js';

export type KiteRow = Record<string, unknown>;

export const isRecord = (v: unknown): v is KiteRow => typeof v === 'object' && v !== null && !Array.isArray(v);

const num = (v: unknown): number => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
};
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** Exchange token = instrument_token >> 8 (computed without 32-bit overflow), as a string. */
export function exchangeTokenOf(instrumentToken: unknown): string | null {
  const t = typeof instrumentToken === 'string' && /^\d+$/.test(instrumentToken) ? Number(instrumentToken) : instrumentToken;
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t <= 0) return null;
  return String(Math.floor(t / 256));
}

/** The row's own tag, or the tags array entry equal to `wanted`. */
export function rowHasTag(row: KiteRow, wanted: string): boolean {
  if (row.tag === wanted) return true;
  return Array.isArray(row.tags) && row.tags.includes(wanted);
}

export function orderFromKite(row: unknown): BrokerOrder | string {
  if (!isRecord(row)) return 'order is not an object';
  // Order ids are strings of up to 19 digits; a JSON number above 2^53 has already lost digits.
  const orderId = typeof row.order_id === 'string' ? row.order_id : Number.isSafeInteger(row.order_id) ? String(row.order_id) : '';
  if (!/^\d{1,30}$/.test(orderId)) return `bad order_id ${JSON.stringify(row.order_id)}`;
  const segment = segmentFromKite(row.exchange);
  if (!segment) return `order ${orderId}: unsupported exchange ${JSON.stringify(row.exchange)}`;
  const securityId = exchangeTokenOf(row.instrument_token);
  if (!securityId) return `order ${orderId}: bad instrument_token ${JSON.stringify(row.instrument_token)}`;
  const status = statusFromKite(row.status);
  if (!status) return `order ${orderId}: unknown status ${JSON.stringify(row.status)}`;
  const side = sideFromKite(row.transaction_type);
  if (!side) return `order ${orderId}: bad transaction_type ${JSON.stringify(row.transaction_type)}`;
  const orderType = orderTypeFromKite(row.order_type);
  if (!orderType) return `order ${orderId}: bad order_type ${JSON.stringify(row.order_type)}`;
  const product = productFromKite(row.product);
  if (!product) return `order ${orderId}: unsupported product ${JSON.stringify(row.product)}`;
  const quantity = num(row.quantity);
  const ownTag = text(row.tag);
  return {
    orderId,
    tag: ownTag,
    status,
    instrument: { segment, securityId, symbol: text(row.tradingsymbol) ?? '' },
    side,
    orderType,
    product,
    validity: validityFromKite(row.validity) ?? 'DAY',
    amo: row.variety === 'amo',
    quantity,
    filledQty: num(row.filled_quantity),
    avgPrice: num(row.average_price),
    price: num(row.price),
    triggerPrice: num(row.trigger_price),
    reason: status === 'rejected' || status === 'cancelled' ? text(row.status_message) ?? text(row.status_message_raw) : null,
    exchangeTime: istToEpochMs(row.exchange_update_timestamp) ?? istToEpochMs(row.exchange_timestamp) ?? istToEpochMs(row.order_timestamp),
  };
}
