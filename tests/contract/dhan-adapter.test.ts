/** Dhan-specific adapter behaviour beyond the shared contract, against the fake over loopback. */
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerRateLimited, BrokerRejected, BrokerUnavailable, SessionExpired } from '../../src/brokers/port.js';
import type { OrderRequest } from '../../src/domain/order.js';
import { holdingFromRow, positionFromRow } from '../../src/brokers/dhan/dhan-orders.js';
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
      { instrument: { segment: 'NSE_FNO', securityId: '61345', symbol: 'NIFTY-Dec2026-26000-CE' }, product: 'MARGIN', netQty: 75, overnightQty: 0, avgPrice: 100, realisedPnl: 0, unrealisedPnl: 0 },
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

describe('DhanBroker market quote (POST /marketfeed/ltp)', () => {
  let rig: DhanRig;
  afterEach(async () => {
    await rig.close();
  });
  const { lotSize: _lot, ...nifty } = niftyOption();
  const infy = { segment: 'NSE_EQ' as const, securityId: '1594', symbol: 'INFY' };

  it('asks for every segment in one request with integer ids and the client-id header, and reads last_price', async () => {
    rig = await dhanRig();
    rig.fake.setLtp('NSE_EQ', '1594', 1500.5);
    rig.fake.setLtp('NSE_FNO', '61345', 101.25);
    // The fake refuses string ids (814) and a missing client-id (808): an answer proves both were right.
    const prices = await rig.broker.ltp([infy, nifty, infy, { segment: 'NSE_EQ', securityId: '2885', symbol: 'RELIANCE' }]);
    expect(prices).toEqual(new Map([['NSE_EQ:1594', 1500.5], ['NSE_FNO:61345', 101.25]]));
    expect(rig.fake.quoteCalls(rig.clientId)).toBe(1);
    expect(await rig.broker.ltp([{ ...infy, securityId: 'INFY' }])).toEqual(new Map());
    expect(rig.fake.quoteCalls(rig.clientId)).toBe(1);
  });

  it('806 "Data APIs not Subscribed" comes as HTTP 401 in the data envelope: BrokerRejected, not a dead session', async () => {
    rig = await dhanRig();
    rig.fake.refuseMarketData(rig.clientId);
    const err = await rig.broker.ltp([infy]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerRejected);
    expect(err).toMatchObject({ code: '806', message: expect.stringMatching(/refuses market data.*plan.*806 Data APIs not Subscribed/) });
    expect((await rig.broker.checkSession()).valid).toBe(true);
  });

  it('the same refusal as DH-902 in the trading envelope, or as a failed envelope on HTTP 200, is BrokerRejected too', async () => {
    rig = await dhanRig();
    // GUESS: the wording and status; the annexure's DH-902 is "not subscribed to Data APIs, or no Trading API access".
    const dh902 = { errorType: 'Invalid_Access', errorCode: 'DH-902', errorMessage: 'User has not subscribed to Data APIs or does not have access to Trading APIs' };
    rig.fake.injectError(rig.clientId, 'quote', { status: 403, body: dh902 });
    await expect(rig.broker.ltp([infy])).rejects.toMatchObject({ name: 'BrokerRejected', code: 'DH-902', message: expect.stringMatching(/refuses market data/) });
    rig.fake.injectError(rig.clientId, 'quote', { status: 200, body: { data: { '806': 'Data APIs not Subscribed' }, status: 'failed' } });
    await expect(rig.broker.ltp([infy])).rejects.toMatchObject({ name: 'BrokerRejected', code: '806' });
  });

  it('1 request a second: the next one within it is BrokerRateLimited (429 805, or DH-904)', async () => {
    rig = await dhanRig();
    rig.fake.setLtp('NSE_EQ', '1594', 1500.5);
    expect((await rig.broker.ltp([infy])).get('NSE_EQ:1594')).toBe(1500.5);
    await expect(rig.broker.ltp([infy])).rejects.toBeInstanceOf(BrokerRateLimited);
    rig.fake.injectError(rig.clientId, 'quote', { status: 429, body: DHAN_ERRORS.rateLimit });
    await expect(rig.broker.ltp([infy])).rejects.toBeInstanceOf(BrokerRateLimited);
    expect(rig.fake.quoteCalls(rig.clientId)).toBe(3);
  });

  it('a dead token (401 808 in the data envelope) is SessionExpired; a hung quote is BrokerUnavailable', async () => {
    rig = await dhanRig({ broker: { http: { timeoutMs: 300 } } });
    rig.fake.injectError(rig.clientId, 'quote', 'hang');
    await expect(rig.broker.ltp([infy])).rejects.toBeInstanceOf(BrokerUnavailable);
    rig.fake.expireToken(rig.clientId);
    await expect(rig.broker.ltp([infy])).rejects.toBeInstanceOf(SessionExpired);
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

describe('DhanBroker opening baseline: overnight positions and holdings', () => {
  let rig: DhanRig;
  afterEach(async () => {
    await rig.close();
  });

  /** A raw GET against the fake, as Dhan's wire has it. */
  const raw = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${rig.fake.apiUrl}${path}`, { headers: { 'access-token': rig.fake.token(rig.clientId), 'client-id': rig.clientId } });
    return { status: res.status, body: await res.json() };
  };
  const fillNow = async (req: OrderRequest, price: number) => {
    const { orderId } = await rig.broker.placeOrder(req);
    await rig.update((u) => u.orderId === orderId && u.status === 'open');
    rig.fake.fill(orderId, { price });
    await rig.update((u) => u.orderId === orderId && u.status === 'filled');
  };
  const reliance = { segment: 'NSE_EQ' as const, securityId: '2885', symbol: 'RELIANCE' };

  it('reads overnightQty from the carry-forward fields: an overnight short with a buy today on top', async () => {
    rig = await dhanRig();
    await rig.broker.start();
    rig.fake.setOvernightPosition(rig.clientId, { securityId: '61345', exchangeSegment: 'NSE_FNO', productType: 'MARGIN', qty: -150, avgPrice: 110 });
    expect(await rig.broker.positions()).toMatchObject([{ product: 'MARGIN', netQty: -150, overnightQty: -150, avgPrice: 110 }]);
    await fillNow(order({ side: 'BUY', quantity: 75 }), 90);
    const [row] = (await raw('/positions')).body as Record<string, unknown>[];
    expect(row).toMatchObject({ carryForwardBuyQty: 0, carryForwardSellQty: 150, dayBuyQty: 75, daySellQty: 0, netQty: -75, positionType: 'SHORT' });
    const positions = await rig.broker.positions();
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ instrument: { segment: 'NSE_FNO', securityId: '61345' }, product: 'MARGIN', netQty: -75, overnightQty: -150 });
  });

  it('sells delivery shares from holdings: /holdings keeps totalQty, availableQty drops, positions show a CNC sell', async () => {
    rig = await dhanRig();
    await rig.broker.start();
    rig.fake.setHoldings(rig.clientId, [
      { securityId: '2885', tradingSymbol: 'RELIANCE', qty: 10, avgPrice: 1200, t1Qty: 3 },
      { securityId: '1333', tradingSymbol: 'HDFCBANK', qty: 5, avgPrice: 1500 },
    ]);
    const opening = [
      { instrument: reliance, qty: 10, avgPrice: 1200 },
      { instrument: { segment: 'NSE_EQ', securityId: '1333', symbol: 'HDFCBANK' }, qty: 5, avgPrice: 1500 },
    ];
    expect(await rig.broker.holdings()).toEqual(opening);
    await fillNow(order({ instrument: reliance, side: 'SELL', product: 'CNC', quantity: 4, price: 1300 }), 1300);

    const held = (await raw('/holdings')).body as Record<string, unknown>[];
    expect(held.find((h) => h.securityId === '2885')).toMatchObject({ exchange: 'ALL', totalQty: 10, dpQty: 7, t1Qty: 3, availableQty: 6, avgCostPrice: 1200 });
    expect(await rig.broker.holdings()).toEqual(opening);

    const rows = (await raw('/positions')).body as Record<string, unknown>[];
    expect(rows).toMatchObject([{ securityId: '2885', exchangeSegment: 'NSE_EQ', productType: 'CNC', daySellQty: 4, carryForwardBuyQty: 0, carryForwardSellQty: 0, netQty: -4 }]);
    expect(await rig.broker.positions()).toMatchObject([{ instrument: reliance, product: 'CNC', netQty: -4, overnightQty: 0 }]);
  });

  it("turns production's empty-portfolio answer (500 DH-1111) into [], and leaves out holdings with nothing in them", async () => {
    rig = await dhanRig();
    expect(await raw('/holdings')).toEqual({ status: 500, body: DHAN_ERRORS.noHoldings });
    expect(await rig.broker.holdings()).toEqual([]);
    rig.fake.setHoldings(rig.clientId, [{ securityId: '1594', tradingSymbol: 'INFY', qty: 0, avgPrice: 0 }, { securityId: '1333', tradingSymbol: 'HDFCBANK', qty: 2, avgPrice: 1500 }]);
    expect(await rig.broker.holdings()).toEqual([{ instrument: { segment: 'NSE_EQ', securityId: '1333', symbol: 'HDFCBANK' }, qty: 2, avgPrice: 1500 }]);
  });

  it("takes the sandbox's 200 [] for an empty portfolio too", async () => {
    rig = await dhanRig({ fake: { emptyHoldings: 'empty-array' } });
    expect(await raw('/holdings')).toEqual({ status: 200, body: [] });
    expect(await rig.broker.holdings()).toEqual([]);
  });

  it('throws any other holdings failure as its kind, a 500 with another code or a DH-1111 that does not say "no holdings" included', async () => {
    rig = await dhanRig();
    rig.fake.setHoldings(rig.clientId, [{ securityId: '1333', tradingSymbol: 'HDFCBANK', qty: 2, avgPrice: 1500 }]);
    const cases: [{ status: number; body: unknown }, string][] = [
      [{ status: 500, body: DHAN_ERRORS.internal }, 'BrokerUnavailable'],
      [{ status: 500, body: { errorType: 'HOLDING_ERROR', errorCode: 'DH-1112', errorMessage: 'No holdings available' } }, 'BrokerUnavailable'],
      [{ status: 500, body: { errorType: 'HOLDING_ERROR', errorCode: 'DH-1111', errorMessage: 'Holdings service unavailable' } }, 'BrokerUnavailable'],
      [{ status: 400, body: DHAN_ERRORS.input }, 'BrokerRejected'],
      [{ status: 429, body: DHAN_ERRORS.rateLimit }, 'BrokerRateLimited'],
      [{ status: 401, body: DHAN_ERRORS.invalidAuth }, 'SessionExpired'],
    ];
    for (const [fault, kind] of cases) {
      rig.fake.injectError(rig.clientId, 'holdings', fault);
      const err = await rig.broker.holdings().catch((e: unknown) => e);
      expect((err as Error).name, JSON.stringify(fault)).toBe(kind);
    }
    // A 2xx that is not a list says nothing: unknown, never "no holdings".
    rig.fake.injectError(rig.clientId, 'holdings', { status: 200, body: { holdings: 'later' } });
    await expect(rig.broker.holdings()).rejects.toBeInstanceOf(BrokerUnavailable);
    // The faults are used up: the real holdings come back.
    expect(await rig.broker.holdings()).toHaveLength(1);
  });
});

describe('Dhan position and holding rows', () => {
  const base = { tradingSymbol: 'TCS', securityId: '11536', exchangeSegment: 'NSE_EQ', productType: 'MARGIN', buyAvg: 3300, sellAvg: 3345.8, costPrice: 3300 };

  it('overnightQty: carry-forward fields first, else netQty less the day net, else all of netQty', () => {
    expect(positionFromRow({ ...base, netQty: 50, carryForwardBuyQty: 0, carryForwardSellQty: '20', dayBuyQty: 80, daySellQty: 10 })?.overnightQty).toBe(-20);
    expect(positionFromRow({ ...base, netQty: 50, dayBuyQty: 80, daySellQty: 10 })?.overnightQty).toBe(-20);
    expect(positionFromRow({ ...base, netQty: 40, carryForwardBuyQty: 40 })?.overnightQty).toBe(40);
    expect(positionFromRow({ ...base, netQty: -40 })?.overnightQty).toBe(-40);
  });

  it('holding qty is totalQty (not availableQty), else DP + T1; exchange ALL is NSE_EQ', () => {
    const row = { exchange: 'ALL', tradingSymbol: 'TCS', securityId: '11536', isin: 'INE467B01029', avgCostPrice: 3000 };
    expect(holdingFromRow({ ...row, totalQty: 10, dpQty: 7, t1Qty: 3, availableQty: 2 })).toEqual({ instrument: { segment: 'NSE_EQ', securityId: '11536', symbol: 'TCS' }, qty: 10, avgPrice: 3000 });
    expect(holdingFromRow({ ...row, dpQty: '7', t1Qty: 3, availableQty: 2 })?.qty).toBe(10);
    expect(holdingFromRow({ ...row, exchange: 'BSE', securityId: 532540, totalQty: 1 })?.instrument).toEqual({ segment: 'BSE_EQ', securityId: '532540', symbol: 'TCS' });
    expect(holdingFromRow({ ...row, totalQty: 0, dpQty: 0, t1Qty: 0, availableQty: 0 })).toBeNull();
    expect(holdingFromRow({ ...row, securityId: '', totalQty: 5 })).toBeNull();
  });
});
