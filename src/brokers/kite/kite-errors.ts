/**
 * Kite failures → the port's error kinds. Kite answers `{status:'error', message, error_type}`.
 * - TokenException → SessionExpired (any status: the JS SDK's session hook does the same).
 * - 429, or "Too many requests" (sent as NetworkException) → BrokerRateLimited.
 * - "Maximum allowed order modifications exceeded." → BrokerRejected, although staff report it as a
 *   NetworkException: it is a definitive no, and retrying cannot succeed.
 * - NetworkException / DataException / GeneralException, 5xx, no response, timeout, a body we
 *   cannot read → BrokerUnavailable (outcome unknown: look the order up by tag).
 * - Other 4xx (InputException, OrderException, MarginException, HoldingException, PermissionException, …)
 *   → BrokerRejected with error_type as the code and the message verbatim.
 * Messages never include request details (headers hold the access token).
 */
import { AxiosError } from 'axios';
import { TransportError } from '../../infra/json-http.js';
import { BrokerRateLimited, BrokerRejected, BrokerUnavailable, SessionExpired } from '../port.js';
import { isRecord } from './kite-order.js';

export type KiteError = BrokerRejected | BrokerUnavailable | BrokerRateLimited | SessionExpired;

const UNKNOWN_OUTCOME_TYPES = new Set(['NetworkException', 'DataException', 'GeneralException']);

function retryAfterMs(headers: unknown): number {
  const raw = isRecord(headers) ? headers['retry-after'] : undefined;
  const s = typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isFinite(s) && s > 0 ? Math.min(60_000, s * 1000) : 1000;
}

/** Map an HTTP answer that is not a success envelope. `op` names the call, for messages. */
export function errorFromResponse(accountId: string, op: string, status: number, body: unknown, headers?: unknown): KiteError {
  const type = isRecord(body) && typeof body.error_type === 'string' ? body.error_type : null;
  const message = isRecord(body) && typeof body.message === 'string' && body.message !== '' ? body.message : null;
  const shown = message ?? `HTTP ${status}`;
  if (type === 'TokenException') return new SessionExpired(accountId, shown);
  if (status === 429 || /too many requests/i.test(message ?? '')) return new BrokerRateLimited(shown, retryAfterMs(headers));
  if (message && /maximum allowed order modifications exceeded/i.test(message)) return new BrokerRejected(type ?? 'OrderException', message);
  if (status >= 500 || status < 200 || (type !== null && UNKNOWN_OUTCOME_TYPES.has(type))) {
    return new BrokerUnavailable(`Kite ${op}: ${type ?? 'HTTP'} ${shown}`, status);
  }
  if (status >= 400 || type !== null) return new BrokerRejected(type ?? `HTTP_${status}`, shown);
  // A 2xx/3xx that is not a success envelope (a proxy page, a redirect): we cannot tell what happened.
  return new BrokerUnavailable(`Kite ${op}: unexpected HTTP ${status} answer`, status);
}

/** Map a thrown error (axios network error, timeout, or an already mapped error). */
export function errorFromThrown(accountId: string, op: string, e: unknown): KiteError {
  if (e instanceof BrokerRejected || e instanceof BrokerUnavailable || e instanceof BrokerRateLimited || e instanceof SessionExpired) return e;
  if (e instanceof TransportError) return new BrokerUnavailable(`Kite ${op}: ${e.code === 'ECONNABORTED' ? 'timed out' : `network error ${e.code}`}`);
  if (e instanceof AxiosError) {
    if (e.response) return errorFromResponse(accountId, op, e.response.status, e.response.data, e.response.headers);
    const what = e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' ? 'timed out' : `network error ${e.code ?? ''}`.trim();
    return new BrokerUnavailable(`Kite ${op}: ${what}`);
  }
  return new BrokerUnavailable(`Kite ${op}: ${e instanceof Error ? e.message : String(e)}`);
}
