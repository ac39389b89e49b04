/**
 * Dhan market quote, LTP mode (`POST /v2/marketfeed/ltp`, reference §2, §2.2, §8). Pure: the
 * request body from instrument refs, and the answer's prices back under `instrumentKey(ref)`.
 *
 *   request  {"NSE_EQ":[1594],"NSE_FNO":[61345]}            (integer security ids, per segment)
 *   answer   {"data":{"NSE_EQ":{"1594":{"last_price":1500.5}}},"status":"success"}
 *
 * Up to 1000 instruments per request, 1 request a second per client.
 */
import type { InstrumentRef } from '../../domain/order.js';
import { instrumentKey } from '../../domain/order.js';
import { num } from './dhan-wire.js';

/** Dhan's cap on instruments in one market-quote request. */
export const DHAN_QUOTE_MAX_INSTRUMENTS = 1000;

export type DhanLtpBody = Record<string, number[]>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The request body: each distinct instrument once, under its segment. A security id that is not a
 * whole number cannot be asked for (Dhan wants integers) and is left out, as is what it would price.
 */
export function ltpRequest(refs: readonly InstrumentRef[]): { body: DhanLtpBody; count: number } {
  const body: DhanLtpBody = {};
  const seen = new Set<string>();
  for (const r of refs) {
    const id = r.securityId.trim();
    if (!/^\d{1,15}$/.test(id)) continue;
    const key = instrumentKey({ segment: r.segment, securityId: id });
    if (seen.has(key)) continue;
    seen.add(key);
    (body[r.segment] ??= []).push(Number(id));
  }
  return { body, count: seen.size };
}

/**
 * The answer's `data` → price by `instrumentKey(ref)`. An instrument missing from the answer, or
 * answered without a positive `last_price` (nothing traded), is left out.
 */
export function pricesFromLtp(refs: readonly InstrumentRef[], data: Record<string, unknown>): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of refs) {
    const bySegment = data[r.segment];
    if (!isRecord(bySegment)) continue;
    const quote = bySegment[r.securityId.trim()];
    if (!isRecord(quote)) continue;
    const price = num(quote.last_price, NaN);
    if (price > 0) out.set(instrumentKey(r), price);
  }
  return out;
}
