/**
 * Parser for Dhan order-update WebSocket frames: `{"Type":"order_alert","Data":{…}}` → BrokerOrder.
 * Pure and total: it never throws, whatever the input; what it cannot use goes to `errors`.
 *
 * Tolerates (reference §6.2, §6.6): PascalCase and camelCase duplicates of a field (the first
 * non-empty one wins), duplicate keys (JSON.parse keeps the last), statuses in any case, numbers sent
 * as strings, several JSON objects concatenated in one frame, and non-JSON frames such as `PING`.
 */
import type { BrokerOrder } from '../../domain/order.js';
import { orderTypeFromDhan, productFromDhan, segmentFromShort, sideFromDhan, statusFromDhan, validityFromDhan } from './dhan-codes.js';
import { parseIstDateTime } from './dhan-time.js';
import { num, text } from './dhan-wire.js';

export interface ParsedFrame {
  orders: BrokerOrder[];
  errors: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const snippet = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

export function parseDhanFrame(frame: string): ParsedFrame {
  const out: ParsedFrame = { orders: [], errors: [] };
  try {
    if (typeof frame !== 'string') {
      out.errors.push('frame is not text');
      return out;
    }
    const trimmed = frame.trim();
    if (trimmed === '') return out;
    for (const value of jsonValues(trimmed, out.errors)) visit(value, out);
  } catch (err) {
    out.errors.push(`parser failure: ${String(err).slice(0, 200)}`);
  }
  return out;
}

/** The JSON values in a frame: the whole frame, or its top-level objects when several are concatenated. */
function jsonValues(frame: string, errors: string[]): unknown[] {
  try {
    return [JSON.parse(frame) as unknown];
  } catch {
    // fall through: split it
  }
  const values: unknown[] = [];
  let garbage = '';
  for (const piece of splitTopLevel(frame)) {
    if (piece.json) {
      try {
        values.push(JSON.parse(piece.text) as unknown);
      } catch {
        errors.push(`unparseable JSON part ${snippet(piece.text)}`);
      }
    } else {
      garbage += piece.text;
    }
  }
  if (garbage.trim()) errors.push(`non-JSON text ${snippet(garbage.trim())}`);
  return values;
}

/** Split text into balanced top-level `{…}`/`[…]` parts and the text between them (string-aware). */
function splitTopLevel(s: string): { json: boolean; text: string }[] {
  const parts: { json: boolean; text: string }[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  for (let i = 0; i < s.length; i += 1) {
    const c = s[i];
    if (depth === 0) {
      if (c === '{' || c === '[') {
        if (i > start) parts.push({ json: false, text: s.slice(start, i) });
        start = i;
        depth = 1;
        inString = false;
        escaped = false;
      }
      continue;
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) {
        parts.push({ json: true, text: s.slice(start, i + 1) });
        start = i + 1;
      }
    }
  }
  if (start < s.length) parts.push({ json: depth > 0, text: s.slice(start) });
  return parts;
}

function visit(value: unknown, out: ParsedFrame): void {
  if (Array.isArray(value)) {
    for (const v of value) visit(v, out);
    return;
  }
  if (!isRecord(value)) {
    out.errors.push(`ignored non-object message ${snippet(String(value))}`);
    return;
  }
  const m = lowerKeys(value);
  const type = text(m.get('type'));
  const data = m.get('data');
  if (type !== null && type.toLowerCase() !== 'order_alert') {
    out.errors.push(`ignored message of type ${snippet(type)}`);
    return;
  }
  if (!isRecord(data)) {
    out.errors.push('order_alert without a Data object');
    return;
  }
  const decoded = decodeOrder(lowerKeys(data));
  if (typeof decoded === 'string') out.errors.push(decoded);
  else {
    out.orders.push(decoded.order);
    if (decoded.warning) out.errors.push(decoded.warning);
  }
}

/** Keys folded to lower case; for duplicates (OrderNo / orderNo) the first non-empty value wins. */
function lowerKeys(o: Record<string, unknown>): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const [k, v] of Object.entries(o)) {
    const lk = k.toLowerCase();
    const prev = m.get(lk);
    if (prev === undefined || prev === null || prev === '') m.set(lk, v);
  }
  return m;
}

function first(m: Map<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) {
    const v = m.get(k);
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

function decodeOrder(d: Map<string, unknown>): { order: BrokerOrder; warning?: string } | string {
  const orderId = text(first(d, 'orderno', 'orderid'));
  const exchange = first(d, 'exchange', 'exchangesegment');
  const segment = segmentFromShort(exchange, first(d, 'segment'));
  const securityId = text(first(d, 'securityid'));
  const side = sideFromDhan(first(d, 'txntype', 'transactiontype'));
  const orderType = orderTypeFromDhan(first(d, 'ordertype'));
  const product = productFromDhan(first(d, 'product', 'producttype', 'productname'));
  const rawStatus = first(d, 'status', 'orderstatus');
  const missing = [
    !orderId && 'OrderNo',
    !segment && `Exchange/Segment (${String(exchange)}/${String(d.get('segment'))})`,
    !securityId && 'SecurityId',
    !side && 'TxnType',
    !orderType && 'OrderType',
    !product && 'Product',
    rawStatus === undefined && 'Status',
  ].filter(Boolean);
  if (!orderId || !segment || !securityId || !side || !orderType || !product || missing.length > 0) {
    return `order_alert ${orderId ?? '?'} skipped: missing or unknown ${missing.join(', ')}`;
  }
  const { status, known } = statusFromDhan(rawStatus);
  const filledQty = num(first(d, 'tradedqty', 'filledqty'));
  let avgPrice = num(first(d, 'avgtradedprice', 'averagetradedprice'));
  if (avgPrice === 0 && filledQty > 0) avgPrice = num(first(d, 'tradedprice'));
  const offMkt = first(d, 'offmktflag');
  const reason = text(first(d, 'reasondescription'));
  const order: BrokerOrder = {
    orderId,
    tag: text(first(d, 'correlationid')),
    status,
    instrument: { segment, securityId, symbol: text(first(d, 'symbol', 'tradingsymbol', 'displayname')) ?? '' },
    side,
    orderType,
    product,
    validity: validityFromDhan(first(d, 'validity')),
    amo: offMkt === '1' || offMkt === 1 || offMkt === true,
    quantity: num(first(d, 'quantity')),
    filledQty,
    avgPrice,
    price: num(first(d, 'price')),
    triggerPrice: num(first(d, 'triggerprice')),
    reason: reason && reason.toUpperCase() !== 'CONFIRMED' ? reason : null,
    exchangeTime: parseIstDateTime(first(d, 'lastupdatedtime')) ?? parseIstDateTime(first(d, 'exchordertime')) ?? parseIstDateTime(first(d, 'orderdatetime')),
  };
  return known ? { order } : { order, warning: `order ${orderId}: unknown status ${snippet(String(rawStatus))} treated as transit` };
}
