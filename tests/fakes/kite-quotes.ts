/**
 * The fake Kite's market quote, LTP mode: `GET /quote/ltp?i=NSE:INFY&i=NFO:…` (reference §2.1,
 * §3, §5.1; the answer as in the official mock ltp.json):
 *
 *   {"status":"success","data":{"NSE:INFY":{"instrument_token":408065,"last_price":1500.5}}}
 *
 * - Prices are market-wide, set by `exchange` + `tradingsymbol` of an instrument the fake lists.
 * - Instruments Kite does not know, or that have no price, are left out of `data` (GUESS for the
 *   unpriced: Kite may answer them with last_price 0).
 * - `i` may also be an instrument_token; the answer is then keyed by it (GUESS: as the SDK docs hint).
 * - An api key whose plan has no market data: 403 PermissionException "Insufficient permission for
 *   that call." (the reference's PermissionException row; the message as the brief quotes it).
 * - More than `ratePerSec` requests in a sliding second per api key (default 1): 429
 *   NetworkException "Too many requests". Only requests let through count (GUESS).
 * - No `i`: 400 InputException; more than 1000: 400 InputException (GUESS: both messages).
 */
import { TEST_INSTRUMENTS } from './instruments.js';
import { type KiteFailure, TOO_MANY, fail, input } from './kite-wire.js';

const MAX_INSTRUMENTS = 1000;

export const NO_MARKET_DATA = (): KiteFailure => fail(403, 'PermissionException', 'Insufficient permission for that call.');

export class KiteQuotes {
  /** `EXCHANGE:TRADINGSYMBOL` → last traded price. */
  private readonly prices = new Map<string, number>();
  private readonly refused = new Set<string>();
  private readonly calls = new Map<string, number>();
  private readonly accepted = new Map<string, number[]>();

  constructor(public ratePerSec = 1) {}

  setLtp(exchange: string, tradingsymbol: string, price: number | null): void {
    const listed = TEST_INSTRUMENTS.some((i) => i.kite?.exchange === exchange && i.kite.tradingsymbol === tradingsymbol);
    if (!listed) throw new Error(`fake kite: ${exchange}:${tradingsymbol} is not in the instrument list`);
    const key = `${exchange}:${tradingsymbol}`;
    if (price === null) this.prices.delete(key);
    else this.prices.set(key, price);
  }

  refuse(apiKey: string, refused: boolean): void {
    if (refused) this.refused.add(apiKey);
    else this.refused.delete(apiKey);
  }

  /** /quote/ltp requests that reached the fake for this api key (answered, refused or limited). */
  count(apiKey: string): number {
    return this.calls.get(apiKey) ?? 0;
  }

  note(apiKey: string): void {
    this.calls.set(apiKey, this.count(apiKey) + 1);
  }

  /** The failure to answer, or the `data` object of the success envelope. */
  answer(apiKey: string, wanted: readonly string[]): { failure: KiteFailure } | { data: Record<string, { instrument_token: number; last_price: number }> } {
    const now = performance.now();
    const times = (this.accepted.get(apiKey) ?? []).filter((t) => now - t < 1000);
    this.accepted.set(apiKey, times);
    if (times.length >= this.ratePerSec) return { failure: TOO_MANY() };
    times.push(now);
    if (this.refused.has(apiKey)) return { failure: NO_MARKET_DATA() };
    if (wanted.length === 0) return { failure: input('No instruments: pass `i`.') };
    if (wanted.length > MAX_INSTRUMENTS) return { failure: input(`Too many instruments: at most ${MAX_INSTRUMENTS}.`) };
    const data: Record<string, { instrument_token: number; last_price: number }> = {};
    for (const w of wanted) {
      const inst = TEST_INSTRUMENTS.find((i) => i.kite && (`${i.kite.exchange}:${i.kite.tradingsymbol}` === w || String(i.kite.instrumentToken) === w));
      if (!inst?.kite) continue;
      const price = this.prices.get(`${inst.kite.exchange}:${inst.kite.tradingsymbol}`);
      if (price !== undefined) data[w] = { instrument_token: inst.kite.instrumentToken, last_price: price };
    }
    return { data };
  }
}
