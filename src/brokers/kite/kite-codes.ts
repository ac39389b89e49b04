/**
 * Kite Connect v3 spellings ↔ the canonical model. Pure lookups: every decoder returns null for a
 * value it does not know, so callers decide what an unknown value means.
 */
import type { OrderStatus, OrderType, Product, Segment, Side, Validity } from '../../domain/order.js';

const up = (v: unknown): string => (typeof v === 'string' ? v.trim().toUpperCase() : '');

// ---- exchange ↔ segment ----
const SEGMENT_TO_EXCHANGE: Record<Segment, string> = {
  NSE_EQ: 'NSE',
  NSE_FNO: 'NFO',
  BSE_EQ: 'BSE',
  BSE_FNO: 'BFO',
  MCX_COMM: 'MCX',
  NSE_CURRENCY: 'CDS',
};
const EXCHANGE_TO_SEGMENT: Record<string, Segment> = Object.fromEntries(
  Object.entries(SEGMENT_TO_EXCHANGE).map(([seg, ex]) => [ex, seg as Segment]),
);
export const kiteExchange = (s: Segment): string => SEGMENT_TO_EXCHANGE[s];
/** BCD, NSEIX, MF and other exchanges we do not trade answer null. */
export const segmentFromKite = (exchange: unknown): Segment | null => EXCHANGE_TO_SEGMENT[up(exchange)] ?? null;

// ---- product ----
const PRODUCT_TO_KITE: Record<Product, string> = { CNC: 'CNC', INTRADAY: 'MIS', MARGIN: 'NRML' };
/** MTF is delivery bought on margin → CNC; CO/BO are intraday-only → INTRADAY. */
const PRODUCT_FROM_KITE: Record<string, Product> = { CNC: 'CNC', MIS: 'INTRADAY', NRML: 'MARGIN', MTF: 'CNC', CO: 'INTRADAY', BO: 'INTRADAY' };
export const kiteProduct = (p: Product): string => PRODUCT_TO_KITE[p];
export const productFromKite = (v: unknown): Product | null => PRODUCT_FROM_KITE[up(v)] ?? null;

// ---- order type, side, validity ----
const ORDER_TYPES: Record<string, OrderType> = { MARKET: 'MARKET', LIMIT: 'LIMIT', SL: 'SL', 'SL-M': 'SL-M' };
export const orderTypeFromKite = (v: unknown): OrderType | null => ORDER_TYPES[up(v)] ?? null;
export const sideFromKite = (v: unknown): Side | null => (up(v) === 'BUY' ? 'BUY' : up(v) === 'SELL' ? 'SELL' : null);
/** TTL (minutes) has no canonical form; it is a day order that may lapse early → DAY. */
const VALIDITIES: Record<string, Validity> = { DAY: 'DAY', IOC: 'IOC', TTL: 'DAY' };
export const validityFromKite = (v: unknown): Validity | null => VALIDITIES[up(v)] ?? null;
/** MARKET and SL-M orders must carry market protection since April 2026; -1 = automatic. */
export const needsMarketProtection = (t: OrderType): boolean => t === 'MARKET' || t === 'SL-M';

// ---- status ----
/**
 * Kite status → canonical.
 * - `open`: OPEN, TRIGGER PENDING, UPDATE (stream only: partial fill or modification), MODIFIED.
 *   MODIFY VALIDATION PENDING / MODIFY PENDING / CANCEL PENDING are also `open`: the order is
 *   already working at the exchange and only a change to it is in flight; calling it `transit`
 *   would make the engine treat a live (maybe part-filled) order as not yet placed.
 * - `transit`: PUT ORDER REQ RECEIVED, VALIDATION PENDING, OPEN PENDING, AMO REQ RECEIVED (the
 *   exchange has not accepted it yet; an AMO waits for the market to open).
 * - COMPLETE → filled; CANCELLED, CANCELLED AMO → cancelled; REJECTED → rejected.
 */
const STATUS_FROM_KITE: Record<string, OrderStatus> = {
  OPEN: 'open',
  'TRIGGER PENDING': 'open',
  UPDATE: 'open',
  MODIFIED: 'open',
  'MODIFY VALIDATION PENDING': 'open',
  'MODIFY PENDING': 'open',
  'CANCEL PENDING': 'open',
  'PUT ORDER REQ RECEIVED': 'transit',
  'PUT ORDER REQUEST RECEIVED': 'transit',
  'VALIDATION PENDING': 'transit',
  'OPEN PENDING': 'transit',
  'AMO REQ RECEIVED': 'transit',
  COMPLETE: 'filled',
  CANCELLED: 'cancelled',
  'CANCELLED AMO': 'cancelled',
  REJECTED: 'rejected',
};
export const statusFromKite = (v: unknown): OrderStatus | null => STATUS_FROM_KITE[up(v).replace(/\s+/g, ' ')] ?? null;

/** Kite timestamps are IST wall-clock `YYYY-MM-DD HH:MM:SS` without a zone → epoch ms, or null. */
export function istToEpochMs(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(v.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - IST_OFFSET_MS;
  return Number.isFinite(ms) ? ms : null;
}

export const IST_OFFSET_MS = 5.5 * 3600_000;
