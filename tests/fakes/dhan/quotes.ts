/**
 * The fake Dhan's market quote, LTP mode: `POST /v2/marketfeed/ltp` (reference §2, §2.2, §8).
 *
 *   request  {"NSE_EQ":[1594],"NSE_FNO":[61345]}  (integer security ids), headers access-token AND client-id
 *   answer   {"data":{"NSE_EQ":{"1594":{"last_price":1500.5}}},"status":"success"}
 *
 * Data-API errors use their own envelope, `{"data":{"<code>":"<message>"},"status":"failed"}`:
 * - an account without the Data APIs plan: HTTP 401 `{"data":{"806":"Data APIs not Subscribed"},…}`
 *   (the 401 and the capital S as third parties measured it; the reference lists 806 "Data APIs not subscribed");
 * - more than `ratePerSec` requests in a sliding second (default 1, the quote limit): HTTP 429 with
 *   805 (GUESS: the reference says 429 DH-904 for the trading APIs and that data APIs "may use 805";
 *   a test can inject the DH-904 body with `injectError(…, 'quote', …)`);
 * - no `client-id` header: HTTP 401 808 (GUESS: the docs only say the header is required);
 * - a body that is not segment → integer ids: HTTP 400 814 "Invalid Request" (GUESS);
 * - more than 1000 instruments: HTTP 400 804 (GUESS: the status).
 * Instruments without a price (unknown ids included) are left out of the answer (GUESS: Dhan may
 * answer them another way), and a segment with none is left out too.
 */
import type { Answer } from './book.js';

const SEGMENTS = new Set(['NSE_EQ', 'NSE_FNO', 'BSE_EQ', 'BSE_FNO', 'MCX_COMM', 'NSE_CURRENCY', 'BSE_CURRENCY', 'IDX_I']);
const MAX_INSTRUMENTS = 1000;

/** The data APIs' error envelope. */
export const dataError = (status: number, code: string, message: string): Answer => ({ status, body: { data: { [code]: message }, status: 'failed' } });

export const DATA_ERR = {
  notSubscribed: () => dataError(401, '806', 'Data APIs not Subscribed'),
  tooMany: () => dataError(429, '805', 'Too many requests. Further requests may result in the user being blocked.'),
  authFailed: () => dataError(401, '808', 'Authentication Failed - Client ID or Token invalid'),
  invalidRequest: () => dataError(400, '814', 'Invalid Request'),
  tooManyInstruments: () => dataError(400, '804', 'Requested number of instruments exceeds limit'),
};

export class DhanQuotes {
  /** `SEGMENT:securityId` → last traded price (market-wide: every account sees the same). */
  private readonly prices = new Map<string, number>();
  /** Clients whose plan has no Data APIs. */
  private readonly refused = new Set<string>();
  private readonly calls = new Map<string, number>();
  private readonly accepted = new Map<string, number[]>();

  constructor(public ratePerSec = 1) {}

  setLtp(segment: string, securityId: string, price: number | null): void {
    const key = `${segment}:${securityId}`;
    if (price === null) this.prices.delete(key);
    else this.prices.set(key, price);
  }

  refuse(clientId: string, refused: boolean): void {
    if (refused) this.refused.add(clientId);
    else this.refused.delete(clientId);
  }

  /** Quote requests that reached the fake for this client (answered or refused). */
  count(clientId: string): number {
    return this.calls.get(clientId) ?? 0;
  }

  /** Called for every authenticated quote request, before faults are looked at. */
  note(clientId: string): void {
    this.calls.set(clientId, this.count(clientId) + 1);
  }

  answer(clientId: string, clientIdHeader: unknown, body: Record<string, unknown>): Answer {
    if (clientIdHeader === undefined) return DATA_ERR.authFailed();
    const now = performance.now();
    const times = (this.accepted.get(clientId) ?? []).filter((t) => now - t < 1000);
    this.accepted.set(clientId, times);
    // GUESS: only requests let through count against the window (as the order limit here).
    if (times.length >= this.ratePerSec) return DATA_ERR.tooMany();
    times.push(now);
    if (this.refused.has(clientId)) return DATA_ERR.notSubscribed();
    const entries = Object.entries(body);
    if (entries.length === 0) return DATA_ERR.invalidRequest();
    let n = 0;
    for (const [segment, ids] of entries) {
      if (!SEGMENTS.has(segment) || !Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && (id as number) > 0)) return DATA_ERR.invalidRequest();
      n += ids.length;
    }
    if (n > MAX_INSTRUMENTS) return DATA_ERR.tooManyInstruments();
    const data: Record<string, Record<string, { last_price: number }>> = {};
    for (const [segment, ids] of entries) {
      for (const id of ids as number[]) {
        const price = this.prices.get(`${segment}:${id}`);
        if (price !== undefined) (data[segment] ??= {})[String(id)] = { last_price: price };
      }
    }
    return { status: 200, body: { data, status: 'success' } };
  }
}
