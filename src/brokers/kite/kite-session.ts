/**
 * The Kite login: the browser login URL, the request token the redirect carries, and its exchange
 * for an access token at POST /session/token with checksum = sha256(api_key + request_token + api_secret).
 * An access token dies at 06:00 IST the next morning (regulatory), earlier on a master logout.
 */
import { createHash } from 'node:crypto';
import { createHttpClient } from '../../infra/http.js';
import { scrubber } from '../../infra/logger.js';
import { BrokerRejected, SessionExpired } from '../port.js';
import { IST_OFFSET_MS } from './kite-codes.js';
import { errorFromResponse, errorFromThrown } from './kite-errors.js';
import { isRecord } from './kite-order.js';
import { encodeForm } from './kite-rest.js';

const DAY_MS = 86_400_000;
const SIX_AM_MS = 6 * 3600_000;

/** The next 06:00 IST strictly after `nowMs` (epoch ms). */
export function nextKiteExpiry(nowMs: number): number {
  const ist = nowMs + IST_OFFSET_MS;
  const istMidnight = Math.floor(ist / DAY_MS) * DAY_MS;
  let expiry = istMidnight + SIX_AM_MS;
  if (expiry <= ist) expiry += DAY_MS;
  return expiry - IST_OFFSET_MS;
}

/** `https://kite.zerodha.com/connect/login?v=3&api_key=…` */
export function loginUrl(kiteLoginUrl: string, apiKey: string): string {
  const sep = kiteLoginUrl.includes('?') ? '&' : '?';
  return `${kiteLoginUrl}${sep}v=3&api_key=${encodeURIComponent(apiKey)}`;
}

const TOKEN = /^[A-Za-z0-9]{6,64}$/;

/** A bare request token, or the one in a pasted redirect URL (`…?action=login&status=success&request_token=…`). */
export function extractRequestToken(input: string): string | null {
  const s = input.trim();
  if (TOKEN.test(s)) return s;
  const m = /[?&#]request_token=([^&#\s]+)/.exec(s);
  if (!m?.[1]) return null;
  let token: string;
  try {
    token = decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  return TOKEN.test(token) ? token : null;
}

export function kiteChecksum(apiKey: string, requestToken: string, apiSecret: string): string {
  return createHash('sha256').update(apiKey + requestToken + apiSecret).digest('hex');
}

export interface KiteSession {
  accessToken: string;
  userId: string;
  expiresAt: number;
}

/**
 * Exchange a request token for an access token. A refusal (bad checksum, used or stale request
 * token: Kite answers TokenException) is thrown as BrokerRejected with Kite's message verbatim,
 * since no session existed to expire; network trouble as BrokerUnavailable.
 */
export async function exchangeRequestToken(p: { apiUrl: string; apiKey: string; apiSecret: string; requestToken: string; timeoutMs?: number }): Promise<KiteSession> {
  scrubber.add(p.apiSecret, p.requestToken);
  const http = createHttpClient(p.apiUrl, { timeoutMs: p.timeoutMs ?? 10_000, headers: { 'X-Kite-Version': '3' } });
  const form = { api_key: p.apiKey, request_token: p.requestToken, checksum: kiteChecksum(p.apiKey, p.requestToken, p.apiSecret) };
  let res;
  try {
    res = await http.post('/session/token', encodeForm(form), { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  } catch (e) {
    throw errorFromThrown('login', 'session token', e);
  }
  const body: unknown = res.data;
  const data = isRecord(body) && body.status === 'success' && isRecord(body.data) ? body.data : null;
  if (res.status !== 200 || !data) {
    const err = errorFromResponse('login', 'session token', res.status, body, res.headers);
    throw err instanceof SessionExpired ? new BrokerRejected('TokenException', err.message) : err;
  }
  const accessToken = typeof data.access_token === 'string' ? data.access_token : '';
  if (!accessToken) throw new BrokerRejected('DataException', 'Kite session answer carries no access_token');
  scrubber.add(accessToken);
  return { accessToken, userId: typeof data.user_id === 'string' ? data.user_id : '', expiresAt: nextKiteExpiry(Date.now()) };
}
