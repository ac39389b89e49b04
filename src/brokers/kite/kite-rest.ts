/**
 * Kite Connect v3 REST transport: one keep-alive transport (infra/json-http), `X-Kite-Version: 3`,
 * `Authorization: token api_key:access_token`, form-encoded bodies, the success envelope unwrapped
 * and every failure mapped onto the port's errors. Never retries (a re-sent POST can place twice).
 */
import { createJsonTransport, type JsonTransport } from '../../infra/json-http.js';
import { BrokerUnavailable, SessionExpired } from '../port.js';
import { errorFromResponse, errorFromThrown } from './kite-errors.js';
import { isRecord, type KiteRow } from './kite-order.js';

export interface KiteRestOptions {
  accountId: string;
  apiKey: string;
  apiUrl: string;
  /** The current access token (it changes on /token or /login). */
  token: () => string | null;
  timeoutMs?: number;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type Form = Record<string, string | number | undefined>;

export class KiteRest {
  private readonly http: JsonTransport;

  constructor(private readonly o: KiteRestOptions) {
    this.http = createJsonTransport(o.apiUrl, { timeoutMs: o.timeoutMs ?? 5_000, headers: { 'X-Kite-Version': '3' } });
  }

  /** One call: resolves with the envelope's `data`, or throws a port error. */
  async call(op: string, method: Method, path: string, form?: Form): Promise<unknown> {
    const token = this.o.token();
    if (!token) throw new SessionExpired(this.o.accountId, 'No Kite access token: log in first');
    const body = form ? encodeForm(form) : undefined;
    const headers: Record<string, string> = { Authorization: `token ${this.o.apiKey}:${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    let res;
    try {
      res = await this.http.request({ method, url: path, data: body, headers });
    } catch (e) {
      throw errorFromThrown(this.o.accountId, op, e);
    }
    const data: unknown = res.data;
    if (res.status === 200 && isRecord(data) && data.status === 'success' && !('error_type' in data)) return data.data;
    throw errorFromResponse(this.o.accountId, op, res.status, data, res.headers);
  }

  async placeOrder(variety: string, form: Form): Promise<string> {
    const data = await this.call('place', 'POST', `/orders/${variety}`, form);
    return orderIdOf(this.o.accountId, 'place', data);
  }

  async modifyOrder(variety: string, orderId: string, form: Form): Promise<void> {
    await this.call('modify', 'PUT', `/orders/${variety}/${encodeURIComponent(orderId)}`, form);
  }

  async cancelOrder(variety: string, orderId: string): Promise<void> {
    await this.call('cancel', 'DELETE', `/orders/${variety}/${encodeURIComponent(orderId)}`);
  }

  /** Today's book: the latest state of each order. */
  async orders(): Promise<KiteRow[]> {
    return rows(await this.call('orders', 'GET', '/orders'), 'orders');
  }

  /** Every state one order passed through, oldest first. */
  async orderHistory(orderId: string): Promise<KiteRow[]> {
    return rows(await this.call('order history', 'GET', `/orders/${encodeURIComponent(orderId)}`), 'order history');
  }

  async trades(): Promise<KiteRow[]> {
    return rows(await this.call('trades', 'GET', '/trades'), 'trades');
  }

  async margins(): Promise<KiteRow> {
    return record(await this.call('margins', 'GET', '/user/margins'), 'margins');
  }

  async positions(): Promise<{ net: KiteRow[]; day: KiteRow[] }> {
    const data = record(await this.call('positions', 'GET', '/portfolio/positions'), 'positions');
    return { net: rows(data.net, 'positions'), day: rows(data.day, 'positions') };
  }

  /** Delivery holdings (reference §2.10); an empty portfolio is `data: []`. */
  async holdings(): Promise<KiteRow[]> {
    return rows(await this.call('holdings', 'GET', '/portfolio/holdings'));
  }

  /** GET /quote/ltp with `i` repeated per instrument (`NSE:INFY`); resolves with the `data` object. */
  async ltp(instruments: readonly string[]): Promise<KiteRow> {
    const query = new URLSearchParams(instruments.map((i): [string, string] => ['i', i])).toString();
    return record(await this.call('ltp', 'GET', `/quote/ltp?${query}`), 'ltp');
  }

  async profile(): Promise<KiteRow> {
    return record(await this.call('profile', 'GET', '/user/profile'), 'profile');
  }
}

export function encodeForm(form: Form): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) p.append(k, String(v));
  return p.toString();
}

/**
 * A success envelope whose `data` is not the list (or object) the call returns is a malformed
 * answer: an unknown outcome, never an empty result (an empty book would read as "no such order").
 */
function rows(v: unknown, op = 'call'): KiteRow[] {
  if (Array.isArray(v)) return v.filter(isRecord);
  throw new BrokerUnavailable(`Kite ${op}: success answer without a list in data; outcome unknown`);
}

function record(v: unknown, op: string): KiteRow {
  if (isRecord(v)) return v;
  throw new BrokerUnavailable(`Kite ${op}: success answer without an object in data; outcome unknown`);
}

function orderIdOf(accountId: string, op: string, data: unknown): string {
  const id = isRecord(data) ? data.order_id : undefined;
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
  // Success without an order id: the order may exist; the caller must look it up by tag.
  throw errorFromResponse(accountId, op, 0, { message: 'success answer without order_id' });
}
