/**
 * The paper broker: a follower account simulated in memory. Orders are accepted at once; market
 * orders fill at the reference price (the leader's price), limit and stop orders fill when the
 * price board crosses them. It keeps positions and funds. Nothing is ever sent anywhere.
 */
import type { BrokerOrder, Funds, Holding, InstrumentRef, OrderChange, OrderRequest, PlaceResult, Position, Product } from '../../domain/order.js';
import { instrumentKey, isTerminal, signedQty } from '../../domain/order.js';
import type { PriceBoard } from '../../infra/price-board.js';
import type { Broker, SessionState, StreamListener } from '../port.js';
import { BrokerRejected } from '../port.js';
import { StreamHub } from '../stream-hub.js';

interface PaperPosition {
  instrument: InstrumentRef;
  product: Product;
  netQty: number;
  avgPrice: number;
  realisedPnl: number;
}

export class PaperBroker implements Broker {
  readonly kind = 'paper' as const;
  private readonly hub = new StreamHub();
  private readonly book = new Map<string, BrokerOrder>();
  private readonly byTag = new Map<string, string>();
  private readonly positionsByKey = new Map<string, PaperPosition>();
  private seq = 0;
  /** This run's stamp in every order id: ids never repeat across restarts (the database keeps old ones). */
  private readonly run = Date.now().toString(36).toUpperCase();
  private realised = 0;
  private unsubscribePrices: (() => void) | null = null;

  constructor(
    readonly accountId: string,
    private readonly prices: PriceBoard,
    private readonly startingCapital = 10_00_000,
  ) {}

  async start(): Promise<void> {
    if (this.unsubscribePrices) return;
    this.unsubscribePrices = this.prices.onPrice((key, price) => this.onPrice(key, price));
    this.hub.setState('connected');
  }

  async stop(): Promise<void> {
    this.unsubscribePrices?.();
    this.unsubscribePrices = null;
    this.hub.setState('stopped');
  }

  subscribe(l: StreamListener): () => void {
    return this.hub.subscribe(l);
  }

  async placeOrder(o: OrderRequest): Promise<PlaceResult> {
    if (!(o.quantity > 0) || !Number.isInteger(o.quantity)) throw new BrokerRejected('PAPER-QTY', `Invalid quantity ${o.quantity}`);
    if (this.byTag.has(o.tag)) throw new BrokerRejected('PAPER-DUP', `Duplicate tag ${o.tag}`);
    if ((o.orderType === 'LIMIT' || o.orderType === 'SL') && !(o.price && o.price > 0)) {
      throw new BrokerRejected('PAPER-PRICE', 'Limit price required');
    }
    if ((o.orderType === 'SL' || o.orderType === 'SL-M') && !(o.triggerPrice && o.triggerPrice > 0)) {
      throw new BrokerRejected('PAPER-TRIGGER', 'Trigger price required');
    }
    const orderId = `P${this.accountId.toUpperCase()}${this.run}${String(++this.seq).padStart(4, '0')}`;
    const order: BrokerOrder = {
      orderId,
      tag: o.tag,
      status: 'open',
      instrument: { ...o.instrument },
      side: o.side,
      orderType: o.orderType,
      product: o.product,
      validity: o.validity,
      amo: o.amo,
      quantity: o.quantity,
      filledQty: 0,
      avgPrice: 0,
      price: o.price ?? 0,
      triggerPrice: o.triggerPrice ?? 0,
      reason: null,
      exchangeTime: Date.now(),
    };
    this.book.set(orderId, order);
    this.byTag.set(o.tag, orderId);
    const ref = o.referencePrice && o.referencePrice > 0 ? o.referencePrice : this.prices.last(o.instrument);
    setImmediate(() => {
      this.emit(order);
      // A market order with no price known yet fills at the next price seen (the leader's fill).
      if (ref) this.tryFill(order, ref);
    });
    return { orderId, status: 'open' };
  }

  async modifyOrder(orderId: string, change: OrderChange): Promise<void> {
    const order = this.book.get(orderId);
    if (!order) throw new BrokerRejected('PAPER-404', `Order ${orderId} not found`);
    if (isTerminal(order.status)) throw new BrokerRejected('PAPER-STATE', `Order ${orderId} is ${order.status}`);
    if (change.quantity !== undefined && change.quantity < order.filledQty) {
      throw new BrokerRejected('PAPER-QTY', `Quantity ${change.quantity} is below the filled ${order.filledQty}`);
    }
    order.orderType = change.orderType;
    order.validity = change.validity;
    if (change.quantity !== undefined) order.quantity = change.quantity;
    if (change.price !== undefined) order.price = change.price;
    if (change.triggerPrice !== undefined) order.triggerPrice = change.triggerPrice;
    order.exchangeTime = Date.now();
    setImmediate(() => {
      this.emit(order);
      if (order.filledQty >= order.quantity) this.finish(order, 'filled', null);
      else {
        const p = this.prices.last(order.instrument);
        if (p) this.tryFill(order, p);
      }
    });
  }

  async cancelOrder(orderId: string): Promise<void> {
    const order = this.book.get(orderId);
    if (!order) throw new BrokerRejected('PAPER-404', `Order ${orderId} not found`);
    if (isTerminal(order.status)) throw new BrokerRejected('PAPER-STATE', `Order ${orderId} is ${order.status}`);
    order.status = 'cancelled';
    setImmediate(() => this.emit(order));
  }

  async findOrderByTag(tag: string): Promise<BrokerOrder | null> {
    const id = this.byTag.get(tag);
    const o = id ? this.book.get(id) : undefined;
    return o ? { ...o, instrument: { ...o.instrument } } : null;
  }

  async orders(): Promise<BrokerOrder[]> {
    return [...this.book.values()].map((o) => ({ ...o, instrument: { ...o.instrument } }));
  }

  async positions(): Promise<Position[]> {
    return [...this.positionsByKey.values()].map((p) => {
      const last = this.prices.last(p.instrument) ?? p.avgPrice;
      return {
        instrument: { ...p.instrument },
        product: p.product,
        netQty: p.netQty,
        // Paper starts every run flat and keeps nothing overnight: all of it is today's.
        overnightQty: 0,
        avgPrice: p.avgPrice,
        realisedPnl: p.realisedPnl,
        unrealisedPnl: (last - p.avgPrice) * p.netQty,
      };
    });
  }

  /** Paper keeps nothing overnight, so it never holds delivery shares. */
  async holdings(): Promise<Holding[]> {
    return [];
  }

  async funds(): Promise<Funds> {
    let used = 0;
    for (const p of this.positionsByKey.values()) used += Math.abs(p.netQty) * p.avgPrice;
    return { available: this.startingCapital + this.realised - used, used };
  }

  async checkSession(): Promise<SessionState> {
    return { valid: true, expiresAt: null, accountName: `paper:${this.accountId}` };
  }

  /** The last price the process has seen for each instrument (the price board); unseen ones are left out. */
  async ltp(refs: InstrumentRef[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const r of refs) {
      const p = this.prices.last(r);
      if (p !== null && p > 0) out.set(instrumentKey(r), p);
    }
    return out;
  }

  private emit(o: BrokerOrder): void {
    this.hub.update({ ...o, instrument: { ...o.instrument } });
  }

  private onPrice(key: string, price: number): void {
    for (const o of this.book.values()) {
      if (o.status === 'open' && instrumentKey(o.instrument) === key) this.tryFill(o, price);
    }
  }

  /** Fill a working limit/stop order if `price` reaches it. */
  private tryFill(o: BrokerOrder, price: number): void {
    if (o.status !== 'open') return;
    const buy = o.side === 'BUY';
    switch (o.orderType) {
      case 'MARKET':
        this.fill(o, price);
        return;
      case 'LIMIT':
        if (buy ? price <= o.price : price >= o.price) this.fill(o, price);
        return;
      case 'SL':
      case 'SL-M': {
        const triggered = buy ? price >= o.triggerPrice : price <= o.triggerPrice;
        if (!triggered) return;
        if (o.orderType === 'SL-M') this.fill(o, price);
        else if (buy ? price <= o.price : price >= o.price) this.fill(o, price);
        return;
      }
    }
  }

  private fill(o: BrokerOrder, price: number): void {
    const qty = o.quantity - o.filledQty;
    if (qty <= 0) return;
    o.avgPrice = (o.avgPrice * o.filledQty + price * qty) / o.quantity;
    o.filledQty = o.quantity;
    this.bookPosition(o, qty, price);
    this.finish(o, 'filled', null);
  }

  private finish(o: BrokerOrder, status: 'filled' | 'rejected', reason: string | null): void {
    o.status = status;
    o.reason = reason;
    o.exchangeTime = Date.now();
    this.emit(o);
  }

  private bookPosition(o: BrokerOrder, qty: number, price: number): void {
    const key = `${instrumentKey(o.instrument)}:${o.product}`;
    const p = this.positionsByKey.get(key) ?? { instrument: { ...o.instrument }, product: o.product, netQty: 0, avgPrice: 0, realisedPnl: 0 };
    const delta = signedQty(o.side, qty);
    if (p.netQty === 0 || Math.sign(p.netQty) === Math.sign(delta)) {
      p.avgPrice = (p.avgPrice * Math.abs(p.netQty) + price * qty) / (Math.abs(p.netQty) + qty);
      p.netQty += delta;
    } else {
      const closing = Math.min(Math.abs(delta), Math.abs(p.netQty));
      const pnl = (price - p.avgPrice) * closing * Math.sign(p.netQty);
      p.realisedPnl += pnl;
      this.realised += pnl;
      p.netQty += delta;
      if (Math.abs(delta) > closing) p.avgPrice = price; // reversed through zero
      if (p.netQty === 0) p.avgPrice = 0;
    }
    this.positionsByKey.set(key, p);
  }
}
