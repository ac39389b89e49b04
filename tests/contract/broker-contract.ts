/**
 * The broker contract: one behavioural suite every adapter must pass, run against each adapter
 * talking to its fake over loopback (and against the paper broker). Modelled on hono's
 * common.case.test.ts: `runBrokerContract(name, make)`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BrokerOrder, InstrumentRef, OrderRequest, Product } from '../../src/domain/order.js';
import { instrumentKey } from '../../src/domain/order.js';
import type { Broker } from '../../src/brokers/port.js';
import { BrokerRateLimited, BrokerRejected, BrokerUnavailable, SessionExpired } from '../../src/brokers/port.js';

export type FaultKind = 'rejected' | 'unavailable' | 'rate_limited' | 'session_expired';

export interface ContractHarness {
  broker: Broker;
  /** A liquid instrument the venue knows, with its lot size and a sensible price. */
  instrument: InstrumentRef;
  lotSize: number;
  price: number;
  /** Make the venue fill the working order completely at `price`. */
  fill(orderId: string, price: number): Promise<void>;
  /** Make the next `place` fail with this kind of error (fakes only; paper has none). */
  injectFault?(kind: FaultKind): void;
  /**
   * Seed the account's opening state, what it held before today (fakes only: paper keeps nothing
   * overnight, so it starts every day flat).
   */
  opening?: {
    /** A cash equity the venue knows (lot 1) and a sensible price for it. */
    equity: InstrumentRef;
    equityPrice: number;
    /** A position in `instrument` carried in from earlier days; `qty` signed. */
    setOvernightPosition(instrument: InstrumentRef, product: Product, qty: number, avgPrice: number): void;
    /** Delivery holding of `equity`: `qty` at the start of today. */
    setHolding(equity: InstrumentRef, qty: number, avgPrice: number): void;
  };
  /** Market data as the venue knows it. */
  quotes: {
    /** Set the venue's last traded price of `instrument` (paper: the price the process has seen). */
    setLtp(instrument: InstrumentRef, price: number): void;
    /** Refuse market data as the venue does for an account whose plan has none (fakes only). */
    refuseMarketData?(): void;
  };
  close(): Promise<void>;
}

/** An instrument no venue lists: its price must be left out, never guessed. */
const UNKNOWN_INSTRUMENT: InstrumentRef = { segment: 'NSE_FNO', securityId: '99999901', symbol: 'NOSUCH26DEC1CE' };

let tagSeq = 0;
export function contractTag(): string {
  tagSeq += 1;
  return `tdmcontract${String(Date.now() % 1e5).padStart(5, '0')}${String(tagSeq).padStart(3, '0')}`.slice(0, 19);
}

/** Resolve with the first update satisfying `pred` (already seen or future), or fail after `ms`. */
export function nextUpdate(seen: BrokerOrder[], subscribe: (f: (u: BrokerOrder) => void) => () => void, pred: (u: BrokerOrder) => boolean, ms = 5000): Promise<BrokerOrder> {
  const found = seen.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching order update within ${ms} ms; saw ${JSON.stringify(seen.map((u) => [u.orderId, u.status, u.filledQty]))}`));
    }, ms);
    const off = subscribe((u) => {
      if (pred(u)) {
        clearTimeout(timer);
        off();
        resolve(u);
      }
    });
  });
}

export function runBrokerContract(name: string, make: () => Promise<ContractHarness>, opts: { faults: boolean; opening?: boolean }): void {
  describe(`broker contract: ${name}`, () => {
    let h: ContractHarness;
    let updates: BrokerOrder[];
    const taps = new Set<(u: BrokerOrder) => void>();
    const tap = (f: (u: BrokerOrder) => void) => {
      taps.add(f);
      return () => taps.delete(f);
    };
    let unsubscribe: () => void;

    const limitBuy = (overrides: Partial<OrderRequest> = {}): OrderRequest => ({
      tag: contractTag(),
      instrument: h.instrument,
      side: 'BUY',
      orderType: 'LIMIT',
      product: 'MARGIN',
      validity: 'DAY',
      amo: false,
      quantity: h.lotSize,
      price: Math.round(h.price * 0.9 * 20) / 20,
      ...overrides,
    });

    beforeEach(async () => {
      h = await make();
      updates = [];
      unsubscribe = h.broker.subscribe({
        onUpdate: (u) => {
          updates.push(u);
          for (const f of taps) f(u);
        },
      });
      await h.broker.start();
    });

    afterEach(async () => {
      unsubscribe();
      taps.clear();
      await h.broker.stop();
      await h.close();
    });

    it('places a limit order that carries the tag and is found by it', async () => {
      const req = limitBuy();
      const res = await h.broker.placeOrder(req);
      expect(typeof res.orderId).toBe('string');
      expect(res.orderId.length).toBeGreaterThan(0);
      const found = await h.broker.findOrderByTag(req.tag);
      expect(found).not.toBeNull();
      expect(found?.orderId).toBe(res.orderId);
      expect(found?.tag).toBe(req.tag);
      expect(found?.side).toBe('BUY');
      expect(found?.quantity).toBe(h.lotSize);
      expect(found?.instrument.securityId).toBe(h.instrument.securityId);
      expect(found?.instrument.segment).toBe(h.instrument.segment);
      const book = await h.broker.orders();
      expect(book.filter((o) => o.orderId === res.orderId)).toHaveLength(1);
    });

    it('answers null for a tag it has never seen', async () => {
      expect(await h.broker.findOrderByTag('tdmneverplaced00000')).toBeNull();
    });

    it('streams the order as working, then modifies its price and quantity (total, not remaining)', async () => {
      const req = limitBuy();
      const { orderId } = await h.broker.placeOrder(req);
      await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.status === 'open');
      const newPrice = Math.round(h.price * 0.85 * 20) / 20;
      await h.broker.modifyOrder(orderId, { orderType: 'LIMIT', validity: 'DAY', price: newPrice, quantity: 2 * h.lotSize });
      const modified = await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.price === newPrice);
      expect(modified.quantity).toBe(2 * h.lotSize);
      const found = await h.broker.findOrderByTag(req.tag);
      expect(found?.price).toBe(newPrice);
      expect(found?.quantity).toBe(2 * h.lotSize);
    });

    it('cancels a working order, and refuses to cancel it twice', async () => {
      const { orderId } = await h.broker.placeOrder(limitBuy());
      await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.status === 'open');
      await h.broker.cancelOrder(orderId);
      await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.status === 'cancelled');
      await expect(h.broker.cancelOrder(orderId)).rejects.toBeInstanceOf(BrokerRejected);
    });

    it('reports a fill on the stream and in positions', async () => {
      const { orderId } = await h.broker.placeOrder(limitBuy());
      await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.status === 'open');
      await h.fill(orderId, h.price * 0.9);
      const filled = await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.status === 'filled');
      expect(filled.filledQty).toBe(h.lotSize);
      expect(filled.avgPrice).toBeGreaterThan(0);
      const positions = await h.broker.positions();
      const p = positions.find((x) => x.instrument.securityId === h.instrument.securityId);
      expect(p?.netQty).toBe(h.lotSize);
      // Bought today: none of it is carried from an earlier day.
      expect(p?.overnightQty).toBe(0);
    });

    it('reports no holdings for an account that holds none, as [] rather than an error', async () => {
      expect(await h.broker.holdings()).toEqual([]);
    });

    if (opts.opening) it('tells the overnight part of a position apart from a day trade in it', async () => {
      const o = h.opening;
      if (!o) throw new Error('a harness run with opening must provide opening');
      const lot = h.lotSize;
      o.setOvernightPosition(h.instrument, 'MARGIN', 3 * lot, h.price);
      const mine = async () => (await h.broker.positions()).filter((x) => x.instrument.securityId === h.instrument.securityId && x.product === 'MARGIN');
      expect(await mine()).toMatchObject([{ netQty: 3 * lot, overnightQty: 3 * lot }]);
      const { orderId } = await h.broker.placeOrder(limitBuy({ side: 'SELL', price: h.price }));
      await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.status === 'open');
      await h.fill(orderId, h.price);
      await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.status === 'filled');
      const after = await mine();
      expect(after).toHaveLength(1);
      expect(after[0]?.netQty).toBe(2 * lot);
      expect(after[0]?.overnightQty).toBe(3 * lot);
    });

    if (opts.opening) it('reports holdings at their opening quantity, unchanged after selling part of them today', async () => {
      const o = h.opening;
      if (!o) throw new Error('a harness run with opening must provide opening');
      o.setHolding(o.equity, 10, 1000);
      const expected = [{ instrument: o.equity, qty: 10, avgPrice: 1000 }];
      expect(await h.broker.holdings()).toEqual(expected);
      const { orderId } = await h.broker.placeOrder(limitBuy({ instrument: o.equity, side: 'SELL', product: 'CNC', quantity: 4, price: o.equityPrice }));
      await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.status === 'open');
      await h.fill(orderId, o.equityPrice);
      await nextUpdate(updates, tap, (u) => u.orderId === orderId && u.status === 'filled');
      expect(await h.broker.holdings()).toEqual(expected);
      // Today's sell shows as a CNC position of its own, none of it overnight.
      const sold = (await h.broker.positions()).filter((x) => x.instrument.securityId === o.equity.securityId);
      expect(sold).toMatchObject([{ product: 'CNC', netQty: -4, overnightQty: 0 }]);
    });

    it('reports funds and a valid session', async () => {
      const funds = await h.broker.funds();
      expect(Number.isFinite(funds.available)).toBe(true);
      const session = await h.broker.checkSession();
      expect(session.valid).toBe(true);
    });

    it('quotes the last traded price of a priced instrument under its key, and leaves an unknown one out', async () => {
      h.quotes.setLtp(h.instrument, 123.45);
      const prices = await h.broker.ltp([h.instrument, UNKNOWN_INSTRUMENT]);
      expect([...prices.entries()]).toEqual([[instrumentKey(h.instrument), 123.45]]);
      expect(await h.broker.ltp([])).toEqual(new Map());
    });

    if (opts.faults) it('refuses market data for an account whose plan has none as BrokerRejected, saying so', async () => {
      if (!h.quotes.refuseMarketData) throw new Error('a harness run with faults must provide quotes.refuseMarketData');
      h.quotes.setLtp(h.instrument, 123.45);
      h.quotes.refuseMarketData();
      const err = await h.broker.ltp([h.instrument]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerRejected);
      expect((err as Error).message).toMatch(/refuses market data.*plan/i);
      // A plan refusal is not a dead session: the account still trades.
      expect((await h.broker.checkSession()).valid).toBe(true);
    });

    if (opts.faults) it('maps each error kind onto the port', async () => {
      if (!h.injectFault) throw new Error('a harness run with faults must provide injectFault');
      const cases: [FaultKind, new (...a: never[]) => Error][] = [
        ['rejected', BrokerRejected],
        ['rate_limited', BrokerRateLimited],
        ['unavailable', BrokerUnavailable],
        ['session_expired', SessionExpired],
      ];
      for (const [kind, cls] of cases) {
        h.injectFault?.(kind);
        await expect(h.broker.placeOrder(limitBuy()), kind).rejects.toBeInstanceOf(cls);
      }
    });
  });
}
