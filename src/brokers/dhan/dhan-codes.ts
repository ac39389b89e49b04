/**
 * Dhan's enum spellings (REST long names and order-update short codes) ↔ the canonical model.
 * Pure lookups; every decoder is case-insensitive and returns null for a value it does not know.
 */
import type { OrderStatus, OrderType, Product, Segment, Side, Validity } from '../../domain/order.js';
import { SEGMENTS } from '../../domain/order.js';

const up = (v: unknown): string => (typeof v === 'string' ? v.trim().toUpperCase() : typeof v === 'number' ? String(v) : '');

// ---- order type ----
const ORDER_TYPE_TO_DHAN: Record<OrderType, string> = { MARKET: 'MARKET', LIMIT: 'LIMIT', SL: 'STOP_LOSS', 'SL-M': 'STOP_LOSS_MARKET' };
const ORDER_TYPE_FROM_DHAN: Record<string, OrderType> = {
  MARKET: 'MARKET', LIMIT: 'LIMIT', STOP_LOSS: 'SL', STOP_LOSS_MARKET: 'SL-M',
  // order-update short codes
  MKT: 'MARKET', LMT: 'LIMIT', SL: 'SL', SLM: 'SL-M',
};
export const dhanOrderType = (t: OrderType): string => ORDER_TYPE_TO_DHAN[t];
export const orderTypeFromDhan = (v: unknown): OrderType | null => ORDER_TYPE_FROM_DHAN[up(v)] ?? null;

// ---- product ----
/**
 * MTF is delivery bought on margin: it maps to CNC. CO and BO are intraday-only: they map to
 * INTRADAY. The canonical model has no finer products; the follower copy uses the mapped one.
 */
const PRODUCT_FROM_DHAN: Record<string, Product> = {
  CNC: 'CNC', INTRADAY: 'INTRADAY', MARGIN: 'MARGIN', MTF: 'CNC', CO: 'INTRADAY', BO: 'INTRADAY',
  C: 'CNC', I: 'INTRADAY', M: 'MARGIN', F: 'CNC', V: 'INTRADAY', B: 'INTRADAY',
};
export const dhanProduct = (p: Product): string => p;
export const productFromDhan = (v: unknown): Product | null => PRODUCT_FROM_DHAN[up(v)] ?? null;

// ---- side ----
const SIDE_FROM_DHAN: Record<string, Side> = { BUY: 'BUY', SELL: 'SELL', B: 'BUY', S: 'SELL' };
export const sideFromDhan = (v: unknown): Side | null => SIDE_FROM_DHAN[up(v)] ?? null;

// ---- validity ----
export const validityFromDhan = (v: unknown): Validity => (up(v) === 'IOC' ? 'IOC' : 'DAY');

// ---- segment ----
const SEGMENT_SET: ReadonlySet<string> = new Set(SEGMENTS);
const SHORT_SEGMENTS: Record<string, Segment> = {
  'NSE:E': 'NSE_EQ', 'NSE:D': 'NSE_FNO', 'BSE:E': 'BSE_EQ', 'BSE:D': 'BSE_FNO', 'MCX:M': 'MCX_COMM', 'NSE:C': 'NSE_CURRENCY',
};
/** REST `exchangeSegment` (NSE_EQ …). Others (IDX_I, BSE_CURRENCY, NSE_COMM) → null. */
export const segmentFromDhan = (v: unknown): Segment | null => {
  const s = up(v);
  return SEGMENT_SET.has(s) ? (s as Segment) : null;
};
/** Order-update / scrip-master Exchange + Segment short codes (NSE + E …). Index (I) and others → null. */
export const segmentFromShort = (exchange: unknown, segment: unknown): Segment | null =>
  SHORT_SEGMENTS[`${up(exchange)}:${up(segment)}`] ?? segmentFromDhan(exchange);

// ---- status ----
/**
 * Status decoding. Known values: TRANSIT → transit; PENDING, PART_TRADED, TRIGGERED, MODIFIED →
 * open; TRADED → filled; CANCELLED → cancelled; REJECTED → rejected; EXPIRED → expired.
 * UNKNOWN values (e.g. CLOSED, INACTIVE, anything new) decode to `transit`: not terminal, so the
 * engine keeps watching and the next known status or a reconcile settles it, and not `open`, so an
 * unknown state never triggers a copy (fail closed). The caller logs the unknown value.
 */
const STATUS_FROM_DHAN: Record<string, OrderStatus> = {
  TRANSIT: 'transit',
  PENDING: 'open', PART_TRADED: 'open', PARTIALLY_TRADED: 'open', TRIGGERED: 'open', MODIFIED: 'open',
  TRADED: 'filled',
  CANCELLED: 'cancelled', CANCELED: 'cancelled',
  REJECTED: 'rejected',
  EXPIRED: 'expired',
};
export function statusFromDhan(v: unknown): { status: OrderStatus; known: boolean } {
  const key = up(v).replace(/[\s-]+/g, '_');
  const status = STATUS_FROM_DHAN[key];
  return status ? { status, known: true } : { status: 'transit', known: false };
}
