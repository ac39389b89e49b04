/**
 * Kite market quote, LTP mode (`GET /quote/ltp?i=NSE:INFY&i=NFO:NIFTY26DEC26000CE`, reference
 * §2.1, §3, §5.1). Pure: the `i` values from instrument refs, the answer's prices back under
 * `instrumentKey(ref)`, and the plan refusal's message.
 *
 *   answer  {"status":"success","data":{"NSE:INFY":{"instrument_token":408065,"last_price":1500.5}}}
 *
 * Up to 1000 instruments per request, 1 request a second per api key. Kite leaves instruments it
 * does not know out of `data`.
 */
import type { InstrumentRef } from '../../domain/order.js';
import { instrumentKey } from '../../domain/order.js';
import { BrokerRejected } from '../port.js';
import { kiteExchange } from './kite-codes.js';
import { exchangeTokenOf, isRecord } from './kite-order.js';

/** Kite's cap on instruments in one /quote/ltp request. */
export const KITE_LTP_MAX_INSTRUMENTS = 1000;

/** `EXCHANGE:TRADINGSYMBOL` for a ref, or null when it has no Kite trading symbol. */
export function kiteQuoteKey(r: InstrumentRef): string | null {
  const symbol = r.symbol.trim();
  return symbol ? `${kiteExchange(r.segment)}:${symbol}` : null;
}

/** The distinct `i` values for `refs` (refs without a trading symbol cannot be asked for). */
export function ltpInstruments(refs: readonly InstrumentRef[]): string[] {
  const out = new Set<string>();
  for (const r of refs) {
    const k = kiteQuoteKey(r);
    if (k) out.add(k);
  }
  return [...out];
}

/**
 * The answer's `data` → price by `instrumentKey(ref)`. Left out: an instrument missing from the
 * answer, one without a positive `last_price`, and one whose `instrument_token` names another
 * exchange token than the ref's (the symbol now means a different contract: its price is not this one's).
 */
export function pricesFromKiteLtp(refs: readonly InstrumentRef[], data: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (!isRecord(data)) return out;
  for (const r of refs) {
    const k = kiteQuoteKey(r);
    const quote = k ? data[k] : undefined;
    if (!isRecord(quote)) continue;
    if (quote.instrument_token !== undefined && exchangeTokenOf(quote.instrument_token) !== r.securityId.trim()) continue;
    const price = typeof quote.last_price === 'number' ? quote.last_price : NaN;
    if (Number.isFinite(price) && price > 0) out.set(instrumentKey(r), price);
  }
  return out;
}

/**
 * A quote call's error, with the plan refusal said plainly: an app or account without market data
 * gets 403 PermissionException ("Insufficient permission for that call."). Other errors pass as they are.
 */
export function kiteQuoteError(e: unknown): unknown {
  if (e instanceof BrokerRejected && e.code === 'PermissionException') {
    return new BrokerRejected(e.code, `Kite refuses market data for this account: its plan has no quote access (PermissionException: ${e.message})`);
  }
  return e;
}
