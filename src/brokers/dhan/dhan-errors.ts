/**
 * Dhan error responses → the port's error kinds. Dhan reuses codes across meanings, so the rules
 * look at the HTTP status, the code AND the message (reference §1.6, §2.1):
 *
 * - SessionExpired: HTTP 401; DH-901; DH-906 whose message says "Invalid Token" (DH-906 is otherwise
 *   the generic order error: "Order is in Transit state", "Nothing to Cancel", lookup misses); the data
 *   API envelope `{"data":{"807|808|809|810": …},"status":"failed"}`.
 * - BrokerRateLimited: HTTP 429; DH-904; data code 805. Dhan sends no Retry-After: 1 s is assumed.
 * - BrokerUnavailable (outcome unknown): any 5xx, DH-908, DH-909, unexpected 1xx/3xx, network errors
 *   and timeouts.
 * - BrokerRejected: every other 4xx (DH-905, DH-906 order errors, DH-902/903/911 …), with Dhan's
 *   `errorMessage` verbatim and its `errorCode` (or `HTTP-<status>` when the body has none).
 * - Market quote (dhanQuoteError): 806 / DH-902 "Data APIs not subscribed" is BrokerRejected saying
 *   the plan refuses market data, whatever the HTTP status (Dhan sends it with 401).
 */
import { BrokerRateLimited, BrokerRejected, BrokerUnavailable, SessionExpired } from '../port.js';

export type DhanError = BrokerRejected | BrokerUnavailable | BrokerRateLimited | SessionExpired;

export interface DhanErrorBody {
  errorType?: string;
  errorCode?: string;
  errorMessage?: string;
}

const AUTH_DATA_CODES = new Set(['807', '808', '809', '810']);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields of an error body, from either the trading envelope or the data-API envelope. */
export function readErrorBody(body: unknown): { code: string | null; message: string | null } {
  if (isRecord(body)) {
    const code = typeof body.errorCode === 'string' && body.errorCode ? body.errorCode : null;
    const message = typeof body.errorMessage === 'string' && body.errorMessage ? body.errorMessage : null;
    if (code || message) return { code, message };
    if (isRecord(body.data)) {
      const [k, v] = Object.entries(body.data)[0] ?? [];
      if (k !== undefined && /^\d{3}$/.test(k)) return { code: k, message: typeof v === 'string' ? v : null };
    }
  }
  if (typeof body === 'string' && body.trim()) return { code: null, message: body.trim().slice(0, 300) };
  return { code: null, message: null };
}

/** True when the response says the access token is dead. */
export function isAuthFailure(status: number, body: unknown): boolean {
  const { code, message } = readErrorBody(body);
  if (status === 401 || code === 'DH-901') return true;
  if (code === 'DH-906' && message !== null && /invalid\s*token/i.test(message)) return true;
  return code !== null && AUTH_DATA_CODES.has(code);
}

/** True for Dhan's "no such order" answer to a lookup by correlation id: 404 DH-906 (not a token error). */
export function isLookupMiss(status: number, body: unknown): boolean {
  return status === 404 && readErrorBody(body).code === 'DH-906' && !isAuthFailure(status, body);
}

/**
 * True for Dhan's answer to `GET /holdings` on an empty portfolio: in production HTTP 500
 * `{"errorType":"HOLDING_ERROR","errorCode":"DH-1111","errorMessage":"No holdings available"}`
 * (reference §2.1; the sandbox answers `200 []`). That is "no holdings", not a failure. The message
 * is checked too (Dhan reuses codes across meanings): a DH-1111 that does not say "no holdings"
 * stays an error, since reading a failure as an empty portfolio would lose the baseline.
 */
export function isNoHoldings(status: number, body: unknown): boolean {
  if (status < 400) return false;
  const { code, message } = readErrorBody(body);
  return code === 'DH-1111' && message !== null && /no\s+holdings?/i.test(message);
}

/** Map a non-2xx Dhan response onto the port. `what` names the call for messages ("place order"). */
export function dhanHttpError(accountId: string, status: number, body: unknown, what: string): DhanError {
  const { code, message } = readErrorBody(body);
  if (isAuthFailure(status, body)) return new SessionExpired(accountId, message ?? `Dhan ${what}: access token invalid or expired`);
  if (status === 429 || code === 'DH-904' || code === '805') return new BrokerRateLimited(message ?? `Dhan ${what}: rate limited`, 1000);
  if (status >= 500 || code === 'DH-908' || code === 'DH-909') {
    return new BrokerUnavailable(`Dhan ${what}: HTTP ${status}${code ? ` ${code}` : ''}${message ? ` ${message}` : ''}`, status);
  }
  if (status >= 400) return new BrokerRejected(code ?? `HTTP-${status}`, message ?? `HTTP ${status}`);
  return new BrokerUnavailable(`Dhan ${what}: unexpected HTTP ${status}`, status);
}

/** Data-API codes that mean "this account's plan has no market data": 806 (data envelope), DH-902. */
const DATA_PLAN_CODES = new Set(['806', 'DH-902']);

/**
 * Map a market-quote answer that is not `{"status":"success","data":{…}}` onto the port. The plan
 * refusal comes first: Dhan answers it as HTTP 401 `{"data":{"806":"Data APIs not Subscribed"},
 * "status":"failed"}` (measured by third parties), and a 401 must not read as a dead token here.
 * A 2xx carrying the failed envelope is mapped by its code; a 2xx with no readable code is unknown.
 */
export function dhanQuoteError(accountId: string, status: number, body: unknown): DhanError {
  const { code, message } = readErrorBody(body);
  if (code !== null && DATA_PLAN_CODES.has(code)) {
    return new BrokerRejected(code, `Dhan refuses market data for this account: its plan has no Data APIs subscription (${code}${message ? ` ${message}` : ''})`);
  }
  if (status >= 200 && status < 300) {
    if (code !== null) return dhanHttpError(accountId, 400, body, 'market quote');
    return new BrokerUnavailable(`Dhan market quote: HTTP ${status} answer is not a quote`, status);
  }
  return dhanHttpError(accountId, status, body, 'market quote');
}

/** Map a thrown transport error (axios network error, timeout, abort) onto BrokerUnavailable. */
export function dhanNetworkError(err: unknown, what: string): BrokerUnavailable {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : 'ERR';
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  return new BrokerUnavailable(`Dhan ${what}: ${code} ${msg}`.slice(0, 300));
}
