/** Dhan-specific adapter behaviour beyond the shared contract, against the fake over loopback. */
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerRateLimited, BrokerRejected, BrokerUnavailable, SessionExpired } from '../../src/brokers/port.js';
import type { OrderRequest } from '../../src/domain/order.js';
import { DHAN_ERRORS } from '../fakes/dhan.js';
import { dhanRig, niftyOption, type DhanRig } from './dhan-harness.js';

let seq = 0;
const order = (o: Partial<OrderRequest> = {}): OrderRequest => {
  const { lotSize, ...instrument } = niftyOption();
  seq += 1;
  return {
    tag: `tdmadapter${String(Date.now() % 1e6)}${seq}`.slice(0, 25), instrument, side: 'BUY', orderType: 'LIMIT', product: 'MARGIN',
    validity: 'DAY', amo: false, quantity: lotSize, price: 90, ...o,
  };
};

describe('DhanBroker against the fake', () => {
  let rig: DhanRig;
  afterEach(async () => {
    await rig.close();
  });

  it('sends the documented place body: correlationId = tag, no empty strings, prices only where used', async () => {
    rig = await dhanRig();
    const mkt = order({ orderType: 'MARKET', price: 0 });
    await rig.broker.placeOrder(mkt);
    await rig.broker.placeOrder(order({ orderType: 'SL-M', side: 'SELL', triggerPrice: 85, product: 'INTRADAY', amo: true, validity: 'IOC' }));
    const [a, b] = rig.fake.placeRequests(rig.clientId).map((r) => r.body);
    expect(a).toEqual({
      dhanClientId: rig.clientId, correlationId: mkt.tag, transactionType: 'BUY', exchangeSegment: 'NSE_FNO', productType: 'MARGIN',
      orderType: 'MARKET', validity: 'DAY', securityId: '61345', quantity: 75, afterMarketOrder: false,
    });
    expect(b).toMatchObject({ orderType: 'STOP_LOSS_MARKET', transactionType: 'SELL', productType: 'INTRADAY', triggerPrice: 85, afterMarketOrder: true, amoTime: 'OPEN', validity: 'IOC' });
    expect(b).not.toHaveProperty('price');
    for (const body of [a, b]) expect(Object.values(body ?? {})).not.toContain('');
  });

  it('modifies with the TOTAL quantity after a partial fill', async () => {
    rig = await dhanRig();
    await rig.broker.start();
    const { orderId } = await rig.broker.placeOrder(order({ quantity: 150 }));
    await rig.update((u) => u.orderId === orderId && u.status === 'open');
    rig.fake.fill(orderId, { price: 90, qty: 75 });
    const part = await rig.update((u) => u.orderId === orderId && u.filledQty === 75);
    expect(part.status).toBe('open');
    await rig.broker.modifyOrder(orderId, { orderType: 'LIMIT', validity: 'DAY', quantity: 225, price: 91 });
    const fakeOrder = rig.fake.orders(rig.clientId).find((o) => o.orderId === orderId);
    expect(fakeOrder).toMatchObject({ quantity: 225, filledQty: 75, price: 91, status: 'PART_TRADED' });
    const seen = await rig.update((u) => u.orderId === orderId && u.quantity === 225);
    expect(seen.filledQty).toBe(75);
  });

  it('finds a TRANSIT order by tag (Dhan answers 404 for it) and refuses to cancel it with DH-906 verbatim', async () => {
    rig = await dhanRig({ fake: { transitDelayMs: 60_000 } });
    const req = order();
    const { orderId, status } = await rig.broker.placeOrder(req);
    expect(status).toBe('transit');
    const found = await rig.broker.findOrderByTag(req.tag);
    expect(found).toMatchObject({ orderId, status: 'transit', tag: req.tag });
    const err = await rig.broker.cancelOrder(orderId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerRejected);
    expect(err).toMatchObject({ code: 'DH-906', message: 'Order is in Transit state' });
  });

  it('maps DH-906 "Invalid Token" to SessionExpired but other DH-906 to BrokerRejected', async () => {
    rig = await dhanRig();
    await expect(rig.broker.cancelOrder('999999')).rejects.toMatchObject({ name: 'BrokerRejected', code: 'DH-906', message: DHAN_ERRORS.noSuchOrder.errorMessage });
    rig.fake.expireToken(rig.clientId, 'invalid-token');
    const err = await rig.broker.placeOrder(order()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionExpired);
    expect((err as SessionExpired).accountId).toBe('f1');
    expect(await rig.broker.checkSession()).toMatchObject({ valid: false, reason: 'Invalid Token' });
  });

  it('a hung place is BrokerUnavailable; accept-then-hang is resolved by tag with exactly one request', async () => {
    rig = await dhanRig({ broker: { http: { timeoutMs: 500 } } });
    rig.fake.injectError(rig.clientId, 'place', 'hang');
    const hung = order();
    await expect(rig.broker.placeOrder(hung)).rejects.toBeInstanceOf(BrokerUnavailable);
    expect(await rig.broker.findOrderByTag(hung.tag)).toBeNull();

    rig.fake.injectError(rig.clientId, 'place', 'accept-then-hang');
    const accepted = order();
    await expect(rig.broker.placeOrder(accepted)).rejects.toBeInstanceOf(BrokerUnavailable);
    const found = await rig.broker.findOrderByTag(accepted.tag);
    expect(found?.tag).toBe(accepted.tag);
    expect(rig.fake.placeRequests(rig.clientId).filter((r) => r.body.correlationId === accepted.tag)).toHaveLength(1);
  });

  it('answers 429 DH-904 past 10 orders a second as BrokerRateLimited, and the 429s placed nothing', async () => {
    rig = await dhanRig();
    const results = await Promise.allSettled(Array.from({ length: 14 }, () => rig.broker.placeOrder(order())));
    const limited = results.filter((r) => r.status === 'rejected' && r.reason instanceof BrokerRateLimited);
    const placed = results.filter((r) => r.status === 'fulfilled');
    expect(placed.length).toBe(10);
    expect(limited.length).toBe(4);
    expect(rig.fake.orders(rig.clientId)).toHaveLength(10);
    expect(rig.fake.placeRequests(rig.clientId).filter((r) => r.status === 429)).toHaveLength(4);
  });

  it('reads funds from the misspelled availabelBalance, and positions from fills', async () => {
    rig = await dhanRig();
    await rig.broker.start();
    const { orderId } = await rig.broker.placeOrder(order());
    await rig.update((u) => u.orderId === orderId && u.status === 'open');
    rig.fake.fill(orderId, { price: 100 });
    await rig.update((u) => u.orderId === orderId && u.status === 'filled');
    expect(await rig.broker.funds()).toEqual({ available: 1_000_000 - 7500, used: 7500 });
    expect(await rig.broker.positions()).toEqual([
      { instrument: { segment: 'NSE_FNO', securityId: '61345', symbol: 'NIFTY-Dec2026-26000-CE' }, product: 'MARGIN', netQty: 75, avgPrice: 100, realisedPnl: 0, unrealisedPnl: 0 },
    ]);
    const book = await rig.broker.orders();
    expect(book.find((o) => o.orderId === orderId)).toMatchObject({ status: 'filled', filledQty: 75, avgPrice: 100 });
  });

  it('renews the token: the new one is installed at once and the old one is dead at Dhan', async () => {
    rig = await dhanRig();
    const before = Date.now();
    const renewed = await rig.broker.renewToken();
    expect(renewed.accessToken).not.toBe(rig.token);
    expect(renewed.accessToken).toBe(rig.fake.token(rig.clientId));
    expect(renewed.expiresAt).toBeGreaterThan(before + 23 * 3600_000);
    expect(renewed.expiresAt).toBeLessThan(before + 25 * 3600_000);
    expect((await rig.broker.checkSession()).valid).toBe(true);
    rig.broker.setAccessToken(rig.token);
    await expect(rig.broker.funds()).rejects.toBeInstanceOf(SessionExpired);
    rig.broker.setAccessToken(renewed.accessToken);
    await expect(rig.broker.funds()).resolves.toMatchObject({ used: 0 });
  });

  it('refuses a tag Dhan would refuse, without calling Dhan', async () => {
    rig = await dhanRig();
    await expect(rig.broker.placeOrder(order({ tag: 'x'.repeat(26) }))).rejects.toBeInstanceOf(BrokerRejected);
    await expect(rig.broker.placeOrder(order({ tag: 'bad/tag' }))).rejects.toBeInstanceOf(BrokerRejected);
    expect(rig.fake.placeRequests(rig.clientId)).toHaveLength(0);
  });

  it('checkSession reports the token expiry from /profile', async () => {
    rig = await dhanRig();
    const s = await rig.broker.checkSession();
    expect(s.valid).toBe(true);
    expect(s.accountName).toBe(rig.clientId);
    // tokenValidity has minute precision.
    expect(Math.abs((s.expiresAt ?? 0) - (Date.now() + 86_400_000))).toBeLessThan(120_000);
  });
});

describe('DhanBroker logging', () => {
  it('logs what went wrong but never the access token', async () => {
    const { Writable } = await import('node:stream');
    const { createLogger } = await import('../../src/infra/logger.js');
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ level: 'debug', pretty: false, destination });
    const rig = await dhanRig({ badToken: true, broker: { logger, warmEveryMs: 30 } });
    try {
      const expired = rig.nextState('session_expired');
      await rig.broker.start();
      await expired;
      rig.broker.setAccessToken(rig.token);
      // A broker error text that echoes the token reaches the log through the keep-warm GET.
      rig.fake.injectError(rig.clientId, 'any', { status: 400, body: { errorType: 'Order_Error', errorCode: 'DH-906', errorMessage: `echo ${rig.token}` } });
      const deadline = Date.now() + 3000;
      while (!lines.some((l) => l.includes('echo')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await rig.close();
    }
    const out = lines.join('');
    expect(out).toMatch(/reset right after login/);
    expect(out).toMatch(/echo \[REDACTED\]/);
    expect(out).not.toContain(rig.token);
    expect(out).not.toContain(rig.token.slice(0, -4));
  });
});
