/**
 * The simulated leader for the demo (and for tests that drive a leader by hand): an account that
 * places, modifies, cancels and fills orders in memory and pushes the updates like a broker's
 * stream would (TRANSIT first, then OPEN, then fills). With `intervalMs > 0` it trades by itself.
 */
import type { BrokerOrder, Funds, Holding, InstrumentRef, OrderChange, OrderRequest, PlaceResult, Position, Side } from '../../domain/order.js';
import { instrumentKey, isTerminal, signedQty } from '../../domain/order.js';
import { roundToTick } from '../../domain/instrument.js';
import type { Broker, SessionState, StreamListener } from '../port.js';
import { BrokerRejected } from '../port.js';
import { StreamHub } from '../stream-hub.js';
import { SIM_UNIVERSE, type SimInstrument } from './sim-universe.js';

export interface SimOrderSpec {
  instrument?: SimInstrument;
  side: Side;
  /** Whole lots. */
  lots: number;
  orderType?: OrderRequest['orderType'];
  price?: number;
  triggerPrice?: number;
  product?: OrderRequest['product'];
}

export class SimLeader implements Broker {
  readonly kind = 'sim' as const;
  readonly accountId = 'leader';
  private readonly hub = new StreamHub();
  private readonly book = new Map<string, BrokerOrder>();
  private readonly net = new Map<string, { instrument: SimInstrument; qty: number; avg: number }>();
  private readonly prices = new Map<string, number>();
  private seq = 0;
  /** This run's stamp in every order id: ids never repeat across restarts (the database keeps old ones). */
  private readonly run = Date.now().toString(36).toUpperCase();
  private step = 0;
  private timer: NodeJS.Timeout | null = null;
  private working: string | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly random: () => number = Math.random,
  ) {
    for (const i of SIM_UNIVERSE) this.prices.set(instrumentKey(i), i.startPrice);
  }

  subscribe(l: StreamListener): () => void {
    return this.hub.subscribe(l);
  }

  async start(): Promise<void> {
    this.hub.setState('connected');
    if (this.intervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.hub.setState('stopped');
  }

  price(i: SimInstrument): number {
    return this.prices.get(instrumentKey(i)) ?? i.startPrice;
  }

  /** Place an order as the leader would from the broker's app. Resolves with the order id. */
  place(spec: SimOrderSpec): string {
    const inst = spec.instrument ?? SIM_UNIVERSE[0]!;
    const orderType = spec.orderType ?? 'MARKET';
    const order: BrokerOrder = {
      orderId: `SIM${this.run}${String(++this.seq).padStart(4, '0')}`,
      tag: null,
      status: 'transit',
      instrument: { segment: inst.segment, securityId: inst.securityId, symbol: inst.symbol },
      side: spec.side,
      orderType,
      product: spec.product ?? (inst.segment === 'NSE_EQ' ? 'CNC' : 'MARGIN'),
      validity: 'DAY',
      amo: false,
      quantity: spec.lots * inst.lotSize,
      filledQty: 0,
      avgPrice: 0,
      price: orderType === 'LIMIT' || orderType === 'SL' ? (spec.price ?? this.price(inst)) : 0,
      triggerPrice: orderType === 'SL' || orderType === 'SL-M' ? (spec.triggerPrice ?? this.price(inst)) : 0,
      reason: null,
      exchangeTime: Date.now(),
    };
    this.book.set(order.orderId, order);
    this.emit(order);
    order.status = 'open';
    this.emit(order);
    return order.orderId;
  }

  modify(orderId: string, change: Partial<OrderChange>): void {
    const o = this.live(orderId);
    if (change.price !== undefined) o.price = change.price;
    if (change.triggerPrice !== undefined) o.triggerPrice = change.triggerPrice;
    if (change.quantity !== undefined) o.quantity = change.quantity;
    if (change.orderType !== undefined) o.orderType = change.orderType;
    o.exchangeTime = Date.now();
    this.emit(o);
  }

  cancel(orderId: string): void {
    const o = this.live(orderId);
    o.status = 'cancelled';
    o.exchangeTime = Date.now();
    this.emit(o);
  }

  /** Fill the order (fully, or `qty` more) at `price` (default: the instrument's current price). */
  fill(orderId: string, price?: number, qty?: number): void {
    const o = this.live(orderId);
    const inst = SIM_UNIVERSE.find((i) => i.securityId === o.instrument.securityId) ?? SIM_UNIVERSE[0]!;
    const px = price ?? (o.orderType === 'LIMIT' ? o.price : this.price(inst));
    const add = Math.min(qty ?? o.quantity - o.filledQty, o.quantity - o.filledQty);
    o.avgPrice = (o.avgPrice * o.filledQty + px * add) / (o.filledQty + add);
    o.filledQty += add;
    if (o.filledQty >= o.quantity) o.status = 'filled';
    o.exchangeTime = Date.now();
    const p = this.net.get(instrumentKey(inst)) ?? { instrument: inst, qty: 0, avg: 0 };
    p.qty += signedQty(o.side, add);
    p.avg = px;
    this.net.set(instrumentKey(inst), p);
    this.emit(o);
  }

  private live(orderId: string): BrokerOrder {
    const o = this.book.get(orderId);
    if (!o) throw new BrokerRejected('SIM-404', `No order ${orderId}`);
    if (isTerminal(o.status)) throw new BrokerRejected('SIM-STATE', `Order ${orderId} is ${o.status}`);
    return o;
  }

  private emit(o: BrokerOrder): void {
    const snapshot = { ...o, instrument: { ...o.instrument } };
    queueMicrotask(() => this.hub.update(snapshot));
  }

  /** One step of the demo script: entries, a modification, a cancel, exits, now and then a big order. */
  private tick(): void {
    for (const i of SIM_UNIVERSE) {
      const k = instrumentKey(i);
      const drift = 1 + (this.random() - 0.5) * 0.004;
      this.prices.set(k, roundToTick((this.prices.get(k) ?? i.startPrice) * drift, i.tickSize));
    }
    const [nifty, bank, reliance] = SIM_UNIVERSE as [SimInstrument, SimInstrument, SimInstrument];
    const cycle = Math.floor(this.step / 8);
    switch (this.step++ % 8) {
      case 0:
        this.fill(this.place({ instrument: nifty, side: 'BUY', lots: 2 }));
        break;
      case 1:
        this.working = this.place({ instrument: reliance, side: 'BUY', lots: 10, orderType: 'LIMIT', price: roundToTick(this.price(reliance) * 0.99, 0.05) });
        break;
      case 2:
        if (this.working) this.modify(this.working, { price: roundToTick(this.price(reliance) * 0.995, 0.05) });
        break;
      case 3:
        if (this.working) this.cancel(this.working);
        this.working = null;
        break;
      case 4:
        this.fill(this.place({ instrument: nifty, side: 'SELL', lots: 2 }));
        break;
      case 5:
        // Every other cycle, an order large enough to need approval once approvals are on.
        this.fill(this.place({ instrument: bank, side: 'BUY', lots: cycle % 2 === 1 ? 20 : 1 }));
        break;
      case 6:
        break;
      case 7: {
        const held = this.net.get(instrumentKey(bank))?.qty ?? 0;
        if (held > 0) this.fill(this.place({ instrument: bank, side: 'SELL', lots: held / bank.lotSize }));
        break;
      }
    }
  }

  // ---- Broker port (the leader's view) ----
  async placeOrder(o: OrderRequest): Promise<PlaceResult> {
    const inst = SIM_UNIVERSE.find((i) => i.securityId === o.instrument.securityId);
    if (!inst) throw new BrokerRejected('SIM-INSTRUMENT', `Unknown instrument ${o.instrument.symbol}`);
    const { orderType, price, triggerPrice, product, side } = o;
    const orderId = this.place({
      instrument: inst,
      side,
      lots: o.quantity / inst.lotSize,
      orderType,
      product,
      ...(price !== undefined ? { price } : {}),
      ...(triggerPrice !== undefined ? { triggerPrice } : {}),
    });
    const placed = this.book.get(orderId);
    if (placed) placed.tag = o.tag;
    return { orderId, status: 'open' };
  }

  async modifyOrder(orderId: string, change: OrderChange): Promise<void> {
    this.modify(orderId, change);
  }

  async cancelOrder(orderId: string): Promise<void> {
    this.cancel(orderId);
  }

  async findOrderByTag(tag: string): Promise<BrokerOrder | null> {
    for (const o of this.book.values()) if (o.tag === tag) return { ...o, instrument: { ...o.instrument } };
    return null;
  }

  async orders(): Promise<BrokerOrder[]> {
    return [...this.book.values()].map((o) => ({ ...o, instrument: { ...o.instrument } }));
  }

  async positions(): Promise<Position[]> {
    return [...this.net.values()].map((p) => ({
      instrument: { segment: p.instrument.segment, securityId: p.instrument.securityId, symbol: p.instrument.symbol },
      product: p.instrument.segment === 'NSE_EQ' ? 'CNC' : 'MARGIN',
      netQty: p.qty,
      // The simulated account starts flat every run: nothing is carried in.
      overnightQty: 0,
      avgPrice: p.avg,
      realisedPnl: 0,
      unrealisedPnl: 0,
    }));
  }

  /** Nothing is held overnight in the simulation. */
  async holdings(): Promise<Holding[]> {
    return [];
  }

  async funds(): Promise<Funds> {
    return { available: 50_00_000, used: 0 };
  }

  async checkSession(): Promise<SessionState> {
    return { valid: true, expiresAt: null, accountName: 'simulated leader' };
  }

  /** The simulated market's current price of each instrument of the universe; others are left out. */
  async ltp(refs: InstrumentRef[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const r of refs) {
      const p = this.prices.get(instrumentKey(r));
      if (p !== undefined && p > 0) out.set(instrumentKey(r), p);
    }
    return out;
  }
}
