/**
 * The Zerodha Kite Connect v3 adapter. REST for orders and reports (kite-rest), the ticker socket
 * for order updates (kite-ws), and, when `pollIntervalMs` > 0 (a leader), a poll of the order book
 * because Kite's stream may not announce placements (kite-poller). Stream and poll feed one hub,
 * deduplicated on (status, filled, quantity, price, trigger) per order: an exact repeat (a
 * duplicated push, or a poll that shows what the stream already did) is not emitted again; a stale
 * out-of-order push is, and the next poll then re-emits the newer state.
 */
import type { BrokerOrder, Funds, Holding, InstrumentRef, OrderChange, OrderRequest, PlaceResult, Position, Segment } from '../../domain/order.js';
import type { Logger } from '../../infra/logger.js';
import type { FramePulse } from '../../infra/resilient-ws.js';
import { scrubber } from '../../infra/logger.js';
import type { Broker, SessionState, StreamListener, StreamState } from '../port.js';
import { BrokerRejected, SessionExpired } from '../port.js';
import { StreamHub } from '../stream-hub.js';
import { kiteExchange, kiteProduct, needsMarketProtection, productFromKite, segmentFromKite } from './kite-codes.js';
import { exchangeTokenOf, isRecord, orderFromKite, rowHasTag, type KiteRow } from './kite-order.js';
import { BookPoller, OrderView } from './kite-poller.js';
import { KITE_LTP_MAX_INSTRUMENTS, kiteQuoteError, ltpInstruments, pricesFromKiteLtp } from './kite-quotes.js';
import { KiteRest, type Form } from './kite-rest.js';
import { nextKiteExpiry } from './kite-session.js';
import { KiteOrderStream } from './kite-ws.js';

export interface KiteBrokerOptions {
  accountId: string;
  apiKey: string;
  accessToken: string | null;
  apiUrl: string;
  wsUrl: string;
  logger: Logger;
  /** Poll the order book this often while started; 0 (default) = off. A leader sets ~1000. */
  pollIntervalMs?: number;
  http?: { timeoutMs: number };
  /** Re-warm the HTTP connection this often (default 25 s). */
  warmIntervalMs?: number;
  /** Stream data watchdog (default 10 s; Kite heartbeats every couple of seconds). */
  idleTimeoutMs?: number;
  /** Where the stream keeps its last frame's time (a leader's, for /health). */
  pulse?: FramePulse;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
/** Delivery holdings are cash equity: only these exchanges hold them. */
const HOLDING_SEGMENTS: Record<string, Segment> = { NSE: 'NSE_EQ', BSE: 'BSE_EQ' };

export class KiteBroker implements Broker {
  readonly kind = 'kite' as const;
  readonly accountId: string;
  private accessToken: string | null;
  private readonly log: Logger;
  private readonly hub = new StreamHub();
  private readonly view = new OrderView();
  private readonly rest: KiteRest;
  private readonly stream: KiteOrderStream;
  private readonly poller: BookPoller;
  /** order id → variety (`regular`, `amo`, …), needed to address modify and cancel. */
  private readonly varieties = new Map<string, string>();
  private started = false;
  private expired = false;
  private warmTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: KiteBrokerOptions) {
    this.accountId = o.accountId;
    this.accessToken = o.accessToken;
    this.log = o.logger.child({ broker: 'kite', account: o.accountId });
    scrubber.add(o.accessToken);
    const token = () => this.accessToken;
    this.rest = new KiteRest({ accountId: o.accountId, apiKey: o.apiKey, apiUrl: o.apiUrl, token, timeoutMs: o.http?.timeoutMs });
    this.stream = new KiteOrderStream({
      accountId: o.accountId,
      apiKey: o.apiKey,
      wsUrl: o.wsUrl,
      token,
      logger: this.log,
      idleTimeoutMs: o.idleTimeoutMs,
      pulse: o.pulse,
      onOrder: (u) => this.onStreamOrder(u),
      onState: (s, d) => this.onStreamState(s, d),
    });
    this.poller = new BookPoller({
      intervalMs: o.pollIntervalMs ?? 0,
      fetch: () => this.orders(),
      view: this.view,
      emit: (u) => this.hub.update(u),
      onSessionExpired: (e) => this.sessionExpired(e.message),
      logger: this.log,
      accountId: o.accountId,
    });
  }

  /** A new access token (from /token or /login): used at once, and the stream restarts with it. */
  setAccessToken(token: string): void {
    scrubber.add(token);
    this.accessToken = token;
    this.expired = false;
    if (this.started) void this.restartFeeds();
  }

  subscribe(l: StreamListener): () => void {
    return this.hub.subscribe(l);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (!this.accessToken) {
      this.sessionExpired('No Kite access token: log in first');
      return;
    }
    this.startFeeds();
    await this.warm();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.stopFeeds();
    this.hub.setState('stopped');
  }

  async placeOrder(o: OrderRequest): Promise<PlaceResult> {
    if (!o.instrument.symbol) throw new BrokerRejected('KITE-SYMBOL', `No Kite tradingsymbol for ${o.instrument.segment}:${o.instrument.securityId}`);
    const variety = o.amo ? 'amo' : 'regular';
    const form: Form = {
      tradingsymbol: o.instrument.symbol,
      exchange: kiteExchange(o.instrument.segment),
      transaction_type: o.side,
      order_type: o.orderType,
      quantity: o.quantity,
      product: kiteProduct(o.product),
      validity: o.validity,
      price: o.orderType === 'LIMIT' || o.orderType === 'SL' ? o.price : undefined,
      trigger_price: o.orderType === 'SL' || o.orderType === 'SL-M' ? o.triggerPrice : undefined,
      market_protection: needsMarketProtection(o.orderType) ? -1 : undefined,
      tag: o.tag,
    };
    const orderId = await this.rest.placeOrder(variety, form);
    this.varieties.set(orderId, variety);
    // Kite's answer only means "received"; the state arrives on the stream or the book.
    return { orderId, status: 'transit' };
  }

  async modifyOrder(orderId: string, change: OrderChange): Promise<void> {
    const variety = await this.varietyOf(orderId);
    const form: Form = {
      order_type: change.orderType,
      validity: change.validity,
      quantity: change.quantity,
      price: change.orderType === 'LIMIT' || change.orderType === 'SL' ? change.price : undefined,
      trigger_price: change.orderType === 'SL' || change.orderType === 'SL-M' ? change.triggerPrice : undefined,
      market_protection: needsMarketProtection(change.orderType) ? -1 : undefined,
    };
    await this.rest.modifyOrder(variety, orderId, form);
  }

  async cancelOrder(orderId: string): Promise<void> {
    await this.rest.cancelOrder(await this.varietyOf(orderId), orderId);
  }

  async findOrderByTag(tag: string): Promise<BrokerOrder | null> {
    const rows = await this.rest.orders();
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i] as KiteRow;
      if (!rowHasTag(row, tag)) continue;
      const o = orderFromKite(row);
      if (typeof o === 'string') {
        this.log.warn({ row: o }, 'kite order with our tag is unreadable');
        continue;
      }
      return { ...o, tag };
    }
    return null;
  }

  async orders(): Promise<BrokerOrder[]> {
    const out: BrokerOrder[] = [];
    for (const row of await this.rest.orders()) {
      const o = orderFromKite(row);
      if (typeof o === 'string') {
        this.log.warn({ row: o }, 'kite order book row skipped');
        continue;
      }
      if (typeof row.variety === 'string') this.varieties.set(o.orderId, row.variety);
      out.push(o);
    }
    return out;
  }

  async positions(): Promise<Position[]> {
    const { net } = await this.rest.positions();
    const out: Position[] = [];
    for (const r of net) {
      const segment = segmentFromKite(r.exchange);
      const securityId = exchangeTokenOf(r.instrument_token);
      const product = productFromKite(r.product);
      if (!segment || !securityId || !product) continue;
      out.push({
        instrument: { segment, securityId, symbol: typeof r.tradingsymbol === 'string' ? r.tradingsymbol : '' },
        product,
        netQty: num(r.quantity),
        // `net` rows: quantity = overnight_quantity + today's buys − today's sells.
        overnightQty: num(r.overnight_quantity),
        avgPrice: num(r.average_price),
        realisedPnl: num(r.realised),
        unrealisedPnl: num(r.unrealised),
      });
    }
    return out;
  }

  /**
   * `GET /portfolio/holdings`: qty = `opening_quantity` (the quantity at the start of today, not
   * reduced by today's sells, which Kite counts in `used_quantity`), else `quantity + t1_quantity`
   * for a row without it. Only NSE and BSE rows (NSE_EQ / BSE_EQ); zero-quantity rows are left out.
   */
  async holdings(): Promise<Holding[]> {
    const out: Holding[] = [];
    for (const r of await this.rest.holdings()) {
      const segment = HOLDING_SEGMENTS[typeof r.exchange === 'string' ? r.exchange.toUpperCase() : ''];
      const securityId = exchangeTokenOf(r.instrument_token);
      if (!segment || !securityId) {
        this.log.warn({ exchange: r.exchange, tradingsymbol: r.tradingsymbol, instrument_token: r.instrument_token }, 'kite holding outside the model skipped');
        continue;
      }
      const qty = typeof r.opening_quantity === 'number' && Number.isFinite(r.opening_quantity) ? r.opening_quantity : num(r.quantity) + num(r.t1_quantity);
      if (qty === 0) continue;
      out.push({
        instrument: { segment, securityId, symbol: typeof r.tradingsymbol === 'string' ? r.tradingsymbol : '' },
        qty,
        avgPrice: num(r.average_price),
      });
    }
    return out;
  }

  /** The equity segment's margins (F&O and cash share it): `net` available, `utilised.debits` used. */
  async funds(): Promise<Funds> {
    const m = await this.rest.margins();
    const eq = isRecord(m.equity) ? m.equity : {};
    const used = isRecord(eq.utilised) ? num(eq.utilised.debits) : 0;
    return { available: num(eq.net), used };
  }

  async checkSession(): Promise<SessionState> {
    try {
      const p = await this.rest.profile();
      const name = typeof p.user_id === 'string' ? p.user_id : typeof p.user_name === 'string' ? p.user_name : undefined;
      return { valid: true, expiresAt: nextKiteExpiry(Date.now()), accountName: name };
    } catch (e) {
      if (e instanceof SessionExpired) return { valid: false, expiresAt: null, reason: e.message };
      throw e;
    }
  }

  /**
   * `GET /quote/ltp`, one request for all of `refs`, asked by `exchange:tradingsymbol` (a ref without
   * a Kite symbol is left out). Kite allows 1000 instruments and one quote request a second per api
   * key (a second call within it is BrokerRateLimited); a plan without market data is BrokerRejected.
   */
  async ltp(refs: InstrumentRef[]): Promise<Map<string, number>> {
    const instruments = ltpInstruments(refs);
    if (instruments.length === 0) return new Map();
    if (instruments.length > KITE_LTP_MAX_INSTRUMENTS) {
      throw new BrokerRejected('KITE-QUOTE-LIMIT', `Kite quote: ${instruments.length} instruments asked, at most ${KITE_LTP_MAX_INSTRUMENTS} per request`);
    }
    try {
      return pricesFromKiteLtp(refs, await this.rest.ltp(instruments));
    } catch (e) {
      throw kiteQuoteError(e);
    }
  }

  private async varietyOf(orderId: string): Promise<string> {
    const known = this.varieties.get(orderId);
    if (known) return known;
    const history = await this.rest.orderHistory(orderId);
    const last = history[history.length - 1];
    const variety = last && typeof last.variety === 'string' ? last.variety : 'regular';
    this.varieties.set(orderId, variety);
    return variety;
  }

  /** A stream update, unless it repeats exactly what the stream or the poll last showed. */
  private onStreamOrder(u: BrokerOrder): void {
    if (!this.varieties.has(u.orderId)) this.varieties.set(u.orderId, u.amo ? 'amo' : 'regular');
    if (this.view.note(u)) this.hub.update(u);
  }

  private onStreamState(s: StreamState, detail?: string): void {
    if (s === 'session_expired') {
      void this.confirmStreamRefusal(detail ?? 'Kite refused the stream');
      return;
    }
    if (this.expired || !this.started) return;
    this.hub.setState(s, detail);
  }

  /**
   * The socket upgrade was refused (403). Usually the token is dead; but a plan without WebSocket
   * access (Kite Personal) is refused too while REST works. Ask REST: only a working token keeps
   * the account alive (polling on, stream off, state `disconnected`); anything else is expiry.
   */
  private async confirmStreamRefusal(detail: string): Promise<void> {
    try {
      await this.rest.profile();
    } catch {
      this.sessionExpired(detail);
      return;
    }
    if (!this.started || this.expired) return;
    this.log.error({ detail }, 'kite refused the order stream although the token works (a plan without WebSocket access?); relying on the order book poll');
    this.hub.setState('disconnected', `stream refused, token valid: ${detail}`);
  }

  /** Report `session_expired` once and stop the background work until a new token arrives. */
  private sessionExpired(reason: string): void {
    if (this.expired) return;
    this.expired = true;
    this.log.warn({ reason }, 'kite session expired');
    this.hub.setState('session_expired', reason);
    void this.stopFeeds();
  }

  private startFeeds(): void {
    this.stream.start();
    this.poller.start();
    const every = this.o.warmIntervalMs ?? 25_000;
    this.warmTimer = setInterval(() => void this.warm(), every);
    this.warmTimer.unref();
  }

  private async stopFeeds(): Promise<void> {
    if (this.warmTimer) clearInterval(this.warmTimer);
    this.warmTimer = null;
    this.poller.stop();
    await this.stream.stop();
  }

  private async restartFeeds(): Promise<void> {
    await this.stopFeeds();
    if (!this.started || !this.accessToken) return;
    this.startFeeds();
    await this.warm();
  }

  /** A cheap authenticated GET keeps the keep-alive socket hot and notices a dead token early. */
  private async warm(): Promise<void> {
    try {
      await this.rest.profile();
    } catch (e) {
      if (e instanceof SessionExpired) this.sessionExpired(e.message);
      else this.log.debug({ err: e instanceof Error ? e.message : String(e) }, 'kite warm-up failed');
    }
  }
}
