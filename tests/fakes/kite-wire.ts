/**
 * The fake Kite's wire formats (shared/reference/kite-api.md §0, §2.5, §2.12, §3, §4.2): the error
 * envelope, order rows and their WebSocket/postback shape, IST timestamps, the instruments CSV.
 */
import { TEST_INSTRUMENTS, type TestInstrument } from './instruments.js';

export type KiteStatus =
  | 'PUT ORDER REQ RECEIVED'
  | 'VALIDATION PENDING'
  | 'OPEN PENDING'
  | 'OPEN'
  | 'TRIGGER PENDING'
  | 'MODIFY VALIDATION PENDING'
  | 'MODIFY PENDING'
  | 'MODIFIED'
  | 'CANCEL PENDING'
  | 'AMO REQ RECEIVED'
  | 'COMPLETE'
  | 'CANCELLED'
  | 'REJECTED';

/** An order-book row, exactly the fields of the official mock orders.json. */
export interface KiteOrderRow {
  account_id: string;
  placed_by: string;
  order_id: string;
  exchange_order_id: string | null;
  parent_order_id: null;
  status: KiteStatus;
  status_message: string | null;
  status_message_raw: string | null;
  order_timestamp: string;
  exchange_update_timestamp: string | null;
  exchange_timestamp: string | null;
  variety: string;
  modified: boolean;
  exchange: string;
  tradingsymbol: string;
  instrument_token: number;
  order_type: string;
  transaction_type: string;
  validity: string;
  validity_ttl: number;
  product: string;
  quantity: number;
  disclosed_quantity: number;
  price: number;
  trigger_price: number;
  average_price: number;
  filled_quantity: number;
  pending_quantity: number;
  cancelled_quantity: number;
  market_protection: number;
  meta: Record<string, unknown>;
  tag: string | null;
  /** Absent when the order has no tag. */
  tags?: string[];
  guid: string | null;
}

export interface KiteErrorBody {
  status: 'error';
  message: string;
  error_type: string;
  data: null;
}

export interface KiteFailure {
  status: number;
  body: KiteErrorBody;
}

export const fail = (status: number, error_type: string, message: string): KiteFailure => ({
  status,
  body: { status: 'error', message, error_type, data: null },
});

export const input = (message: string): KiteFailure => fail(400, 'InputException', message);
export const TOKEN_INVALID = (): KiteFailure => fail(403, 'TokenException', 'Incorrect `api_key` or `access_token`.');
export const TOO_MANY = (): KiteFailure => fail(429, 'NetworkException', 'Too many requests');

/** `YYYY-MM-DD HH:MM:SS` in IST (no zone), as Kite writes every timestamp. */
export function istStamp(ms = Date.now()): string {
  return new Date(ms + 5.5 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** The WebSocket order payload: the postback shape (no `tags`/`modified`), checksum blank on WS. */
export function orderPush(row: KiteOrderRow, userId: string, status?: KiteStatus | 'UPDATE'): string {
  const { tags: _tags, modified: _modified, account_id: _account, ...rest } = row;
  const data = {
    user_id: userId,
    unfilled_quantity: row.pending_quantity,
    app_id: 1234, // GUESS: an int, as in postback.json
    checksum: '',
    ...rest,
    status: status ?? row.status,
  };
  return JSON.stringify({ type: 'order', data });
}

export const KITE_CSV_HEADER = 'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange';

const q = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function kiteCsvLine(i: TestInstrument): string | null {
  const k = i.kite;
  if (!k) return null;
  return [
    String(k.instrumentToken),
    i.securityId,
    k.tradingsymbol,
    q(i.name),
    '0.0',
    i.expiry ?? '',
    (i.strike ?? 0).toFixed(1),
    String(i.tickSize),
    String(i.lotSize),
    k.instrumentType,
    k.segment,
    k.exchange,
  ].join(',');
}

/**
 * The /instruments CSV: every Kite-listed test instrument, an index row and a BCD row (which a
 * loader must skip), then `synthetic` extra NIFTY option rows (tokens from 900000) for volume.
 */
export function* instrumentsCsv(synthetic = 0): Generator<string> {
  yield `${KITE_CSV_HEADER}\n`;
  for (const i of TEST_INSTRUMENTS) {
    const line = kiteCsvLine(i);
    if (line) yield `${line}\n`;
  }
  yield '256265,1001,NIFTY 50,NIFTY 50,0.0,,0.0,0.0,0,EQ,INDICES,NSE\n';
  yield '1792774,7003,USDINR26DECFUT,USDINR,0.0,2026-12-29,0.0,0.0025,1,FUT,BCD-FUT,BCD\n';
  for (let n = 0; n < synthetic; n += 1) {
    const token = 900000 + n;
    const strike = 20000 + 50 * Math.floor(n / 2);
    const type = n % 2 === 0 ? 'CE' : 'PE';
    yield `${token * 256 + 2},${token},NIFTY27JAN${strike}${type},NIFTY,0.0,2027-01-26,${strike}.0,0.05,75,${type},NFO-OPT,NFO\n`;
  }
}

export function kiteInstrument(exchange: string, tradingsymbol: string): TestInstrument | undefined {
  return TEST_INSTRUMENTS.find((i) => i.kite?.exchange === exchange && i.kite.tradingsymbol === tradingsymbol);
}
