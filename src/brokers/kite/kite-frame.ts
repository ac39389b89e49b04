/**
 * The Kite ticker frame parser. Pure and total: whatever arrives, it returns (never throws).
 * - Binary frames are market data or 1-byte heartbeats: nothing for the order stream.
 * - Text `{"type":"order","data":{…}}` → one order update.
 * - Text `{"type":"error","data":"…"}` → `errors`; `{"type":"message","data":"…"}` → `messages`.
 * - Anything else (bad JSON, unknown type, an order we cannot read) → `errors`, described.
 */
import type { BrokerOrder } from '../../domain/order.js';
import { isRecord, orderFromKite } from './kite-order.js';

export interface KiteFrame {
  orders: BrokerOrder[];
  errors: string[];
  /** Broker notices (`type: message`), for the log. */
  messages: string[];
}

export type RawFrame = string | Buffer | ArrayBuffer | Buffer[] | Uint8Array;

const MAX_TEXT = 1_000_000;

function asText(data: RawFrame): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}

const describe = (v: unknown): string => {
  if (typeof v === 'string') return v.slice(0, 500);
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 500);
  } catch {
    return String(v).slice(0, 500);
  }
};

export function parseKiteFrame(data: RawFrame, isBinary: boolean): KiteFrame {
  const out: KiteFrame = { orders: [], errors: [], messages: [] };
  try {
    if (isBinary) return out;
    const text = asText(data);
    if (text.length > MAX_TEXT) {
      out.errors.push(`text frame of ${text.length} chars ignored`);
      return out;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      out.errors.push(`not JSON: ${text.slice(0, 120)}`);
      return out;
    }
    if (!isRecord(msg)) {
      out.errors.push(`not an object: ${describe(msg)}`);
      return out;
    }
    switch (msg.type) {
      case 'order': {
        const o = orderFromKite(msg.data);
        if (typeof o === 'string') out.errors.push(`order frame: ${o}`);
        else out.orders.push(o);
        break;
      }
      case 'error':
        out.errors.push(`kite error: ${describe(msg.data)}`);
        break;
      case 'message':
        out.messages.push(describe(msg.data));
        break;
      default:
        out.errors.push(`unknown frame type ${describe(msg.type)}`);
    }
  } catch (e) {
    out.errors.push(`unparseable frame: ${e instanceof Error ? e.message : String(e)}`);
  }
  return out;
}
