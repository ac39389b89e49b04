/**
 * The Dhan (API v2) adapter behind the Broker port: REST for orders and reads, the order-update
 * WebSocket for pushes, a keep-warm GET on the REST connection while started.
 */
import type { BrokerOrder, Funds, Holding, InstrumentRef, OrderChange, OrderRequest, PlaceResult, Position } from '../../domain/order.js';
import type { Logger } from '../../infra/logger.js';
import { scrubber } from '../../infra/logger.js';
import type { Broker, SessionState, StreamListener } from '../port.js';
import { BrokerRejected, BrokerUnavailable, SessionExpired } from '../port.js';
import { StreamHub } from '../stream-hub.js';
import { statusFromDhan } from './dhan-codes.js';
import { holdingFromRow, orderFromRow, positionFromRow, toModifyBody, toPlaceBody } from './dhan-orders.js';
import { DHAN_QUOTE_MAX_INSTRUMENTS, ltpRequest, pricesFromLtp } from './dhan-quotes.js';
import { DhanRest } from './dhan-rest.js';
import { DhanOrderStream, type DhanStreamTuning } from './dhan-stream.js';
import { jwtExpiry, parseIstDateTime, parseTokenValidity } from './dhan-time.js';
import type { DhanOrderRow } from './dhan-wire.js';
import { num, text } from './dhan-wire.js';

export interface DhanBrokerOptions {
  accountId: string;
  clientId: string;
  accessToken: string;
  /** REST base, e.g. https://api.dhan.co/v2 */
  apiUrl: string;
  /** Order-update socket, e.g. wss://api-order-update.dhan.co */
  wsUrl: string;
  logger: Logger;
  http?: { timeoutMs?: number };
  /** Stream tuning (tests shorten these). */
  ws?: DhanStreamTuning;
  /** Keep-warm period for the REST connection. Default 25 s. */
  warmEveryMs?: number;
  /** How long `start()` waits for the stream's first verdict (connected / expired). Default 5 s. */
  startWaitMs?: number;
}

export class DhanBroker implements Broker {
  readonly kind = 'dhan' as const;
  readonly accountId: string;
  private readonly hub = new StreamHub();
  private readonly rest: DhanRest;
  private readonly stream: DhanOrderStream;
  private readonly log: Logger;
  private warmTimer: NodeJS.Timeout | null = null;
  private started = false;

  constructor(private readonly opts: DhanBrokerOptions) {
    this.accountId = opts.accountId;
    scrubber.add(opts.accessToken);
    this.log = opts.logger.child({ broker: 'dhan', account: opts.accountId });
    this.rest = new DhanRest(opts.accountId, opts.clientId, opts.accessToken, opts.apiUrl, opts.http?.timeoutMs);
    this.stream = new DhanOrderStream({
      url: opts.wsUrl,
      clientId: opts.clientId,
      token: () => this.rest.accessToken,
      hub: this.hub,
      logger: this.log,
      checkToken: () => this.tokenVerdict(),
      tuning: opts.ws,
    });
  }

  // ---- lifecycle ----

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const verdict = this.firstStreamVerdict(this.opts.startWaitMs ?? 5_000);
    this.stream.start();
    this.warmTimer = setInterval(() => void this.warm(), this.opts.warmEveryMs ?? 25_000);
    await Promise.all([this.warm(), verdict]);
  }

  async stop(): Promise<void> {
    if (this.warmTimer) clearInterval(this.warmTimer);
    this.warmTimer = null;
    const wasStarted = this.started;
    this.started = false;
    await this.stream.stop();
    if (wasStarted) this.hub.setState('stopped');
  }

  subscribe(l: StreamListener): () => void {
    return this.hub.subscribe(l);
  }

  /** Replace the access token now: REST uses it from the next call, the stream at its next login. */
  setAccessToken(token: string): void {
    scrubber.add(token);
    this.rest.setToken(token);
    if (this.started && this.stream.sessionExpired) void this.stream.restart();
  }

  /**
   * GET /RenewToken: Dhan kills the old token at once, so the new one is installed before returning.
   * `persist` runs first (store the new token before anything uses it); the token is installed
   * even if it throws, since the old one is already dead.
   */
  async renewToken(persist?: (t: { accessToken: string; expiresAt: number | null }) => void): Promise<{ accessToken: string; expiresAt: number | null }> {
    const res = await this.rest.renewToken();
    const accessToken = text(res.accessToken) ?? text(res.token);
    if (!accessToken) throw new BrokerUnavailable('Dhan renew token: the response carries no token');
    scrubber.add(accessToken);
    const renewed = { accessToken, expiresAt: parseIstDateTime(res.expiryTime) ?? jwtExpiry(accessToken) };
    try {
      persist?.(renewed);
    } finally {
      this.setAccessToken(accessToken);
    }
    return renewed;
  }

  // ---- orders ----

  async placeOrder(o: OrderRequest): Promise<PlaceResult> {
    const ack = await this.rest.placeOrder(toPlaceBody(this.opts.clientId, o));
    const orderId = text(ack?.orderId);
    // A 2xx without an order id: Dhan may well have the order. Outcome unknown → look it up by tag.
    if (!orderId) throw new BrokerUnavailable('Dhan place order: 2xx response without an orderId');
    return { orderId, status: statusFromDhan(ack.orderStatus ?? 'TRANSIT').status };
  }

  async modifyOrder(orderId: string, change: OrderChange): Promise<void> {
    await this.rest.modifyOrder(orderId, toModifyBody(this.opts.clientId, orderId, change));
  }

  async cancelOrder(orderId: string): Promise<void> {
    await this.rest.cancelOrder(orderId);
  }

  /**
   * By correlation id. Dhan answers 404 DH-906 for an unknown id AND for an order still in TRANSIT,
   * so on a miss the order book is scanned too before answering null: a TRANSIT order must never
   * look absent, or the caller would place it again.
   */
  async findOrderByTag(tag: string): Promise<BrokerOrder | null> {
    const row = await this.rest.orderByCorrelationId(tag);
    if (row) return this.decode(row);
    const book = await this.rest.orders();
    const matches = book.filter((r) => text(r.correlationId) === tag);
    const last = matches.at(-1);
    return last ? this.decode(last) : null;
  }

  async orders(): Promise<BrokerOrder[]> {
    const rows = await this.rest.orders();
    const out: BrokerOrder[] = [];
    for (const r of rows) {
      const o = this.decodeOrNull(r);
      if (o) out.push(o);
    }
    return out;
  }

  async positions(): Promise<Position[]> {
    const rows = await this.rest.positions();
    const out: Position[] = [];
    for (const r of rows) {
      const p = positionFromRow(r);
      if (p) out.push(p);
      else this.log.warn({ segment: r.exchangeSegment, product: r.productType, securityId: r.securityId }, 'dhan position outside the model skipped');
    }
    return out;
  }

  /** `GET /holdings`: the opening (DP + T1) quantity of each holding; `[]` for an empty portfolio. */
  async holdings(): Promise<Holding[]> {
    const out: Holding[] = [];
    for (const r of await this.rest.holdings()) {
      const h = holdingFromRow(r);
      if (h) out.push(h);
      else if (!text(r.securityId)) this.log.warn({ symbol: r.tradingSymbol }, 'dhan holding without a security id skipped');
    }
    return out;
  }

  async funds(): Promise<Funds> {
    const f = await this.rest.fundLimit();
    return { available: num(f.availabelBalance, num(f.availableBalance)), used: num(f.utilizedAmount) };
  }

  /**
   * `POST /marketfeed/ltp`, one request for all of `refs` (Dhan allows 1000 instruments and one
   * request a second: a second call within the second is BrokerRateLimited). An account without
   * the Data APIs plan is refused (806) as BrokerRejected.
   */
  async ltp(refs: InstrumentRef[]): Promise<Map<string, number>> {
    const { body, count } = ltpRequest(refs);
    if (count === 0) return new Map();
    if (count > DHAN_QUOTE_MAX_INSTRUMENTS) {
      throw new BrokerRejected('DHAN-QUOTE-LIMIT', `Dhan market quote: ${count} instruments asked, at most ${DHAN_QUOTE_MAX_INSTRUMENTS} per request`);
    }
    return pricesFromLtp(refs, await this.rest.marketLtp(body));
  }

  /**
   * Valid when /profile answers; invalid on an auth error; other failures (network…) throw.
   * With `token`, checks that candidate instead (the account's own token is left alone).
   */
  async checkSession(token?: string): Promise<SessionState> {
    const rest = token === undefined ? this.rest : new DhanRest(this.accountId, this.opts.clientId, token, this.opts.apiUrl, this.opts.http?.timeoutMs);
    try {
      const p = await rest.profile();
      return {
        valid: true,
        expiresAt: parseTokenValidity(p.tokenValidity) ?? jwtExpiry(rest.accessToken),
        accountName: text(p.dhanClientId) ?? this.opts.clientId,
      };
    } catch (err) {
      if (err instanceof SessionExpired) return { valid: false, expiresAt: null, reason: err.message };
      throw err;
    }
  }

  // ---- internals ----

  private decode(r: DhanOrderRow): BrokerOrder {
    const o = this.decodeOrNull(r);
    if (!o) throw new BrokerUnavailable(`Dhan order ${String(r.orderId)} could not be decoded`);
    return o;
  }

  private decodeOrNull(r: DhanOrderRow): BrokerOrder | null {
    const d = orderFromRow(r);
    if (!d.ok) {
      this.log.warn({ error: d.error }, 'dhan order row skipped');
      return null;
    }
    if (d.warning) this.log.warn({ warning: d.warning }, 'dhan order row');
    return d.value;
  }

  private async tokenVerdict(): Promise<'valid' | 'dead' | 'unknown'> {
    try {
      await this.rest.profile();
      return 'valid';
    } catch (err) {
      return err instanceof SessionExpired ? 'dead' : 'unknown';
    }
  }

  private async warm(): Promise<void> {
    try {
      await this.rest.profile();
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'dhan keep-warm GET /profile failed');
    }
  }

  /** Resolves at the stream's first `connected` / `session_expired`, or after `ms`. */
  private firstStreamVerdict(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const off = this.hub.subscribe({
        onUpdate: () => {},
        onState: (s) => {
          if (s === 'connected' || s === 'session_expired' || s === 'stopped') done();
        },
      });
    });
  }
}
