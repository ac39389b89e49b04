/**
 * Dhan v2 REST over the copy path's keep-alive transport (infra/json-http.ts). Every call sends `access-token` and `client-id`;
 * the token can be replaced at any time (`setToken`) and the next request uses it. Errors come out
 * as the port's kinds (dhan-errors.ts). No retries here: a re-sent POST can place an order twice.
 */
import { createJsonTransport, type JsonAnswer, type JsonTransport } from '../../infra/json-http.js';
import { scrubber } from '../../infra/logger.js';
import { BrokerUnavailable } from '../port.js';
import { dhanHttpError, dhanNetworkError, dhanQuoteError, isLookupMiss, isNoHoldings } from './dhan-errors.js';
import type { DhanLtpBody } from './dhan-quotes.js';
import type { DhanFundLimit, DhanHoldingRow, DhanModifyBody, DhanOrderAck, DhanOrderRow, DhanPlaceBody, DhanPositionRow, DhanProfile, DhanRenewResponse } from './dhan-wire.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export class DhanRest {
  private readonly http: JsonTransport;
  private token: string;

  constructor(
    private readonly accountId: string,
    readonly clientId: string,
    accessToken: string,
    apiUrl: string,
    timeoutMs = 5_000,
  ) {
    scrubber.add(accessToken);
    this.token = accessToken;
    this.http = createJsonTransport(apiUrl.replace(/\/+$/, ''), {
      timeoutMs,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
  }

  setToken(token: string): void {
    scrubber.add(token);
    this.token = token;
  }

  get accessToken(): string {
    return this.token;
  }

  placeOrder(body: DhanPlaceBody): Promise<DhanOrderAck> {
    return this.json('POST', '/orders', 'place order', body);
  }

  modifyOrder(orderId: string, body: DhanModifyBody): Promise<DhanOrderAck> {
    return this.json('PUT', `/orders/${encodeURIComponent(orderId)}`, 'modify order', body);
  }

  cancelOrder(orderId: string): Promise<DhanOrderAck> {
    return this.json('DELETE', `/orders/${encodeURIComponent(orderId)}`, 'cancel order');
  }

  orders(): Promise<DhanOrderRow[]> {
    return this.json<unknown>('GET', '/orders', 'order book').then((b) => asList<DhanOrderRow>(b, 'order book'));
  }

  /** Documented as an object; an array (`[]` for an unknown id) is also seen. Null when absent. */
  async orderById(orderId: string): Promise<DhanOrderRow | null> {
    const body = await this.json<unknown>('GET', `/orders/${encodeURIComponent(orderId)}`, 'order by id');
    return asArray<DhanOrderRow>(body).at(-1) ?? null;
  }

  /** Order by correlation id; null on Dhan's lookup miss (404 DH-906). */
  async orderByCorrelationId(cid: string): Promise<DhanOrderRow | null> {
    const res = await this.send('GET', `/orders/external/${encodeURIComponent(cid)}`, 'order by correlation id');
    if (isLookupMiss(res.status, res.data)) return null;
    const body = this.unwrap<unknown>(res, 'order by correlation id');
    return asArray<DhanOrderRow>(body).at(-1) ?? null;
  }

  trades(): Promise<Record<string, unknown>[]> {
    return this.json<unknown>('GET', '/trades', 'trade book').then((b) => asList<Record<string, unknown>>(b, 'trade book'));
  }

  fundLimit(): Promise<DhanFundLimit> {
    return this.json('GET', '/fundlimit', 'fund limit');
  }

  positions(): Promise<DhanPositionRow[]> {
    return this.json<unknown>('GET', '/positions', 'positions').then((b) => asList<DhanPositionRow>(b, 'positions'));
  }

  /** Delivery holdings; `[]` for production's empty-portfolio answer (HTTP 500 DH-1111, see isNoHoldings). */
  async holdings(): Promise<DhanHoldingRow[]> {
    const res = await this.send('GET', '/holdings', 'holdings');
    if (isNoHoldings(res.status, res.data)) return [];
    return asList<DhanHoldingRow>(this.unwrap<unknown>(res, 'holdings'), 'holdings');
  }

  profile(): Promise<DhanProfile> {
    return this.json('GET', '/profile', 'profile');
  }

  /**
   * POST /marketfeed/ltp: the answer's `data` (segment → security id → `{last_price}`). Market quote
   * requires the `client-id` header, which every call here sends. Errors: dhanQuoteError.
   */
  async marketLtp(body: DhanLtpBody): Promise<Record<string, unknown>> {
    const res = await this.send('POST', '/marketfeed/ltp', 'market quote', body);
    const b: unknown = res.data;
    if (res.status >= 200 && res.status < 300 && isObject(b) && b.status === 'success' && isObject(b.data)) return b.data;
    throw dhanQuoteError(this.accountId, res.status, b);
  }

  /** GET (never POST: that answers 400 DH-905). RenewToken wants the client id as `dhanClientId`. */
  renewToken(): Promise<DhanRenewResponse> {
    return this.json('GET', '/RenewToken', 'renew token', undefined, { dhanClientId: this.clientId });
  }

  private async json<T>(method: Method, path: string, what: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return this.unwrap<T>(await this.send(method, path, what, body, headers), what);
  }

  /**
   * A 2xx body that is not JSON (an HTML page from a proxy, an empty body) says nothing about what
   * the broker did: it is an unknown outcome, never an empty result (an empty book would read as
   * "no such order" and allow a second placement).
   */
  private unwrap<T>(res: JsonAnswer, what: string): T {
    if (res.status >= 200 && res.status < 300) {
      if (res.data !== null && typeof res.data === 'object') return res.data as T;
      throw new BrokerUnavailable(`Dhan ${what}: HTTP ${res.status} answer is not JSON (${snippet(res.data)}); outcome unknown`, res.status);
    }
    throw dhanHttpError(this.accountId, res.status, res.data, what);
  }

  private async send(method: Method, path: string, what: string, body?: unknown, headers?: Record<string, string>): Promise<JsonAnswer> {
    try {
      return await this.http.request({
        method,
        url: path,
        data: body === undefined ? undefined : JSON.stringify(body),
        headers: { 'access-token': this.token, 'client-id': this.clientId, ...headers },
      });
    } catch (err) {
      throw dhanNetworkError(err, what);
    }
  }
}

/** What a body that is not JSON started with, for the error message (one line, short). */
function snippet(body: unknown): string {
  const text = typeof body === 'string' ? body.replace(/\s+/g, ' ').trim() : String(body);
  return text === '' ? 'empty body' : `"${text.slice(0, 60)}${text.length > 60 ? '…' : ''}"`;
}

/** A list endpoint's body: an array, or the answer is malformed (unknown outcome, never `[]`). */
function asList<T>(body: unknown, what: string): T[] {
  if (Array.isArray(body)) return body as T[];
  throw new BrokerUnavailable(`Dhan ${what}: 2xx answer is not a list (${snippet(JSON.stringify(body))}); outcome unknown`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asArray<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') return [body as T];
  return [];
}
