/**
 * KiteBroker behaviour beyond the shared contract, against the fake Kite: the wire it sends, the
 * stream (pushes, reconnects, 403 on upgrade), the book poll and its dedupe, unknown outcomes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerOrder, OrderRequest } from '../../src/domain/order.js';
import { KiteBroker, type KiteBrokerOptions } from '../../src/brokers/kite/kite-broker.js';
import { exchangeRequestToken } from '../../src/brokers/kite/kite-session.js';
import { BrokerRateLimited, BrokerRejected, BrokerUnavailable, type StreamState } from '../../src/brokers/port.js';
import { createLogger } from '../../src/infra/logger.js';
import { testInstrument } from '../fakes/instruments.js';
import { type FakeKite, type FakeKiteOptions, startFakeKite } from '../fakes/kite.js';
import { capturedLogger } from '../e2e/harness.js';

const apiKey = 'kiteadapterkey';
const inst = testInstrument('NIFTY_26000_CE');
const symbol = inst.kite?.tradingsymbol as string;

/** Resolve when `cond()` holds, checking every 5 ms; fail after `ms`. */
async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Rig {
  fake: FakeKite;
  broker: KiteBroker;
  updates: BrokerOrder[];
  states: StreamState[];
  token: string;
}

let rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs) {
    await r.broker.stop();
    await r.fake.close();
  }
  rigs = [];
});

async function rig(over: Partial<KiteBrokerOptions> = {}, fakeOpts: FakeKiteOptions = {}, start = true): Promise<Rig> {
  const fake = await startFakeKite(fakeOpts);
  const token = fake.addAccount({ apiKey, apiSecret: 'kiteadaptersecret', userId: 'KA1234' });
  const broker = new KiteBroker({
    accountId: 'ka',
    apiKey,
    accessToken: token,
    apiUrl: fake.apiUrl,
    wsUrl: fake.wsUrl,
    logger: createLogger({ level: 'silent', pretty: false }),
    ...over,
  });
  const r: Rig = { fake, broker, updates: [], states: [], token };
  broker.subscribe({ onUpdate: (u) => r.updates.push(u), onState: (s) => r.states.push(s) });
  rigs.push(r);
  if (start) {
    await broker.start();
    await until(() => r.states.includes('connected'), 'stream connected');
  }
  return r;
}

let tagSeq = 0;
const req = (o: Partial<OrderRequest> = {}): OrderRequest => ({
  tag: `tdmadapter${String(++tagSeq).padStart(9, '0')}`,
  instrument: { segment: inst.segment, securityId: inst.securityId, symbol },
  side: 'BUY',
  orderType: 'LIMIT',
  product: 'MARGIN',
  validity: 'DAY',
  amo: false,
  quantity: 75,
  price: 100,
  ...o,
});

describe('KiteBroker wire', () => {
  it('sends a form-encoded place with Kite spellings, the tag, and no market protection on LIMIT', async () => {
    const r = await rig();
    const o = req();
    const { orderId, status } = await r.broker.placeOrder(o);
    expect(orderId).toMatch(/^\d{19}$/);
    expect(status).toBe('transit');
    const sent = r.fake.placeRequests(apiKey);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.variety).toBe('regular');
    expect(sent[0]?.form).toEqual({
      tradingsymbol: symbol, exchange: 'NFO', transaction_type: 'BUY', order_type: 'LIMIT', quantity: '75', product: 'NRML',
      validity: 'DAY', price: '100', tag: o.tag,
    });
  });

  it('puts market_protection=-1 on MARKET and SL-M, maps INTRADAY to MIS and sends AMOs to /orders/amo', async () => {
    const r = await rig();
    await r.broker.placeOrder(req({ orderType: 'MARKET', price: undefined, product: 'INTRADAY' }));
    await r.broker.placeOrder(req({ orderType: 'SL-M', price: undefined, triggerPrice: 90, side: 'SELL' }));
    const amo = await r.broker.placeOrder(req({ amo: true, product: 'CNC', instrument: { segment: 'NSE_EQ', securityId: '2885', symbol: 'RELIANCE' }, quantity: 3, price: 1300 }));
    const [mkt, slm, amoReq] = r.fake.placeRequests(apiKey);
    expect(mkt?.form).toMatchObject({ order_type: 'MARKET', market_protection: '-1', product: 'MIS' });
    expect(mkt?.form.price).toBeUndefined();
    expect(slm?.form).toMatchObject({ order_type: 'SL-M', market_protection: '-1', trigger_price: '90', transaction_type: 'SELL' });
    expect(amoReq?.variety).toBe('amo');
    expect(amoReq?.form).toMatchObject({ exchange: 'NSE', product: 'CNC', tradingsymbol: 'RELIANCE' });
    // Modify and cancel address the AMO under its variety (the fake refuses a wrong one).
    await r.broker.modifyOrder(amo.orderId, { orderType: 'LIMIT', validity: 'DAY', quantity: 4, price: 1290 });
    expect(r.fake.orders(apiKey).find((x) => x.order_id === amo.orderId)).toMatchObject({ quantity: 4, price: 1290, variety: 'amo' });
    // A broker that never saw the order learns its variety from the order history.
    const other = new KiteBroker({ accountId: 'ka2', apiKey, accessToken: r.token, apiUrl: r.fake.apiUrl, wsUrl: r.fake.wsUrl, logger: createLogger({ level: 'silent', pretty: false }) });
    await other.cancelOrder(amo.orderId);
    expect(r.fake.orders(apiKey).find((x) => x.order_id === amo.orderId)?.status).toBe('CANCELLED');
    expect((await other.findOrderByTag(r.fake.orders(apiKey)[2]?.tag as string))?.amo).toBe(true);
  });

  it('refuses an order without a Kite symbol before sending anything', async () => {
    const r = await rig();
    await expect(r.broker.placeOrder(req({ instrument: { segment: 'NSE_FNO', securityId: '61345', symbol: '' } }))).rejects.toBeInstanceOf(BrokerRejected);
    expect(r.fake.placeRequests(apiKey)).toHaveLength(0);
  });

  it('passes a Kite rejection through verbatim with error_type as the code', async () => {
    const r = await rig();
    const e = await r.broker.placeOrder(req({ quantity: 70 })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BrokerRejected);
    expect(e).toMatchObject({ code: 'InputException', message: 'Quantity should be a multiple of lot size (75).' });
  });

  it('answers 429 from the per-account order limit as BrokerRateLimited, and only the accepted ones exist', async () => {
    const r = await rig({}, { orderRatePerSec: 2 });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => r.broker.placeOrder(req())));
    const limited = results.filter((x) => x.status === 'rejected' && x.reason instanceof BrokerRateLimited).length;
    const ok = results.filter((x) => x.status === 'fulfilled').length;
    expect(limited).toBeGreaterThanOrEqual(1);
    expect(ok + limited).toBe(5);
    expect(r.fake.orders(apiKey)).toHaveLength(ok);
  });

  it('maps a hung place to BrokerUnavailable, and an accepted-then-hung one is found by its tag', async () => {
    const r = await rig({ http: { timeoutMs: 300 } });
    r.fake.injectError(apiKey, 'place', 'hang');
    const t0 = performance.now();
    await expect(r.broker.placeOrder(req())).rejects.toBeInstanceOf(BrokerUnavailable);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.fake.orders(apiKey)).toHaveLength(0);

    r.fake.injectError(apiKey, 'place', 'accept-then-hang');
    const o = req();
    await expect(r.broker.placeOrder(o)).rejects.toBeInstanceOf(BrokerUnavailable);
    const found = await r.broker.findOrderByTag(o.tag);
    expect(found?.orderId).toBe(r.fake.orders(apiKey)[0]?.order_id);
    expect(found?.status).toBe('open');
    expect(r.fake.placeRequests(apiKey)).toHaveLength(2);
  });
});

describe('KiteBroker market quote (GET /quote/ltp)', () => {
  const nifty = { segment: inst.segment, securityId: inst.securityId, symbol };
  const infy = { segment: 'NSE_EQ' as const, securityId: '1594', symbol: 'INFY' };

  it('asks by exchange:tradingsymbol in one request and keys the answer by instrument; a stale symbol or none is left out', async () => {
    const { fake, broker } = await rig({}, {}, false);
    fake.setLtp('NSE', 'INFY', 1500.5);
    fake.setLtp('NFO', symbol, 101.25);
    const infyUnderAnotherToken = { ...infy, securityId: '2885' }; // Kite's INFY is token 1594: not this contract's price
    const prices = await broker.ltp([infy, nifty, infy, infyUnderAnotherToken, { ...infy, symbol: '' }]);
    expect(prices).toEqual(new Map([['NSE_EQ:1594', 1500.5], [`NSE_FNO:${inst.securityId}`, 101.25]]));
    expect(fake.quoteCalls(apiKey)).toBe(1);
    expect(await broker.ltp([{ ...infy, symbol: '' }])).toEqual(new Map());
    expect(fake.quoteCalls(apiKey)).toBe(1);
  });

  it('a plan without market data (403 PermissionException) is BrokerRejected saying so, and the session lives on', async () => {
    const { fake, broker } = await rig({}, {}, false);
    fake.refuseMarketData(apiKey);
    const err = await broker.ltp([infy]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerRejected);
    expect(err).toMatchObject({ code: 'PermissionException', message: expect.stringMatching(/refuses market data.*plan.*Insufficient permission for that call\./) });
    expect((await broker.checkSession()).valid).toBe(true);
  });

  it('1 request a second (429 "Too many requests") is BrokerRateLimited; a dead token SessionExpired; no answer BrokerUnavailable', async () => {
    const { fake, broker } = await rig({}, {}, false);
    fake.setLtp('NSE', 'INFY', 1500.5);
    expect((await broker.ltp([infy])).get('NSE_EQ:1594')).toBe(1500.5);
    await expect(broker.ltp([infy])).rejects.toBeInstanceOf(BrokerRateLimited);
    fake.expireToken(apiKey);
    await expect(broker.ltp([infy])).rejects.toMatchObject({ name: 'SessionExpired' });
    expect(fake.quoteCalls(apiKey)).toBe(3);
    const offline = new KiteBroker({ accountId: 'ko', apiKey, accessToken: 't', apiUrl: 'http://127.0.0.1:1', wsUrl: 'ws://127.0.0.1:1', logger: createLogger({ level: 'silent', pretty: false }) });
    await expect(offline.ltp([infy])).rejects.toBeInstanceOf(BrokerUnavailable);
  });
});

describe('KiteBroker stream and poll', () => {
  it('delivers pushes over the socket without polling, ignoring heartbeats, garbage and duplicates', async () => {
    const r = await rig({ pollIntervalMs: 0 }, { heartbeatMs: 20 });
    const { orderId } = await r.broker.placeOrder(req());
    r.fake.pushRaw(apiKey, 'garbage{');
    r.fake.pushRaw(apiKey, JSON.stringify({ type: 'error', data: 'oops' }));
    r.fake.duplicatePushes(3);
    r.fake.fill(orderId, { price: 99.5 });
    await until(() => r.updates.some((u) => u.orderId === orderId && u.status === 'filled'), 'filled push');
    const filled = r.updates.filter((u) => u.orderId === orderId);
    expect(filled).toHaveLength(1); // three identical frames, one update
    expect(filled[0]).toMatchObject({ filledQty: 75, avgPrice: 99.5, tag: expect.stringMatching(/^tdmadapter/) });
    expect(r.fake.requests(apiKey).filter((x) => x.path === '/orders')).toHaveLength(0);
  });

  it('a throwing listener and garbage frames are logged and skipped: the other listener still gets every update and the stream lives on', async () => {
    const { logger, lines } = capturedLogger('warn');
    const r = await rig({ pollIntervalMs: 0, logger }, { heartbeatMs: 20 });
    const crashes: unknown[] = [];
    const onCrash = (e: unknown) => crashes.push(e);
    process.on('uncaughtException', onCrash);
    try {
      // Subscribed after the rig's recorder: it throws on every update and every state.
      const off = r.broker.subscribe({
        onUpdate: () => {
          throw new Error('listener boom');
        },
        onState: () => {
          throw new Error('state listener boom');
        },
      });
      r.fake.pushRaw(apiKey, 'garbage{');
      r.fake.pushRaw(apiKey, JSON.stringify({ type: 'order', data: { order_id: 42 } }));
      r.fake.pushRaw(apiKey, Buffer.from([0xff, 0x00, 0x13]));
      const { orderId } = await r.broker.placeOrder(req());
      r.fake.fill(orderId, { price: 99.5 });
      await until(() => r.updates.some((u) => u.orderId === orderId && u.status === 'filled'), 'filled push despite the throwing listener');
      // The socket survives a state change too: drop it, it reconnects, a later push still arrives.
      const connects = r.states.filter((s) => s === 'connected').length;
      r.fake.dropSockets(apiKey);
      await until(() => r.states.filter((s) => s === 'connected').length > connects, 'reconnect');
      const second = await r.broker.placeOrder(req());
      r.fake.reject(second.orderId, 'RMS:Margin Exceeds');
      await until(() => r.updates.some((u) => u.orderId === second.orderId && u.status === 'rejected'), 'push after the reconnect');
      expect(lines.some((l) => l.includes('kite order stream: a listener failed') && l.includes('listener boom'))).toBe(true);
      expect(lines.some((l) => l.includes('kite order stream: a state listener failed'))).toBe(true);
      expect(lines.some((l) => l.includes('not JSON: garbage{'))).toBe(true);
      expect(crashes).toEqual([]);
      off();
    } finally {
      process.off('uncaughtException', onCrash);
    }
  });

  it('polls the book for placements the stream never announces, emitting only changes', async () => {
    const r = await rig({ pollIntervalMs: 20 });
    const orderId = r.fake.placeAsUser(apiKey, { tradingsymbol: symbol, exchange: 'NFO', transaction_type: 'SELL', order_type: 'LIMIT', quantity: 150, product: 'NRML', price: 130 });
    await until(() => r.updates.some((u) => u.orderId === orderId), 'polled placement');
    const polls = () => r.fake.requests(apiKey).filter((x) => x.path === '/orders').length;
    const seen = polls();
    await until(() => polls() >= seen + 5, 'five more polls');
    expect(r.updates.filter((u) => u.orderId === orderId)).toHaveLength(1);
    expect(r.updates[0]).toMatchObject({ status: 'open', tag: null, side: 'SELL', quantity: 150, filledQty: 0 });

    // A partial fill is pushed (UPDATE) and then polled (OPEN, same numbers): one update.
    r.fake.fill(orderId, { price: 131, qty: 75 });
    await until(() => r.updates.some((u) => u.orderId === orderId && u.filledQty === 75), 'partial fill');
    const after = polls();
    await until(() => polls() >= after + 5, 'five more polls');
    expect(r.updates.filter((u) => u.orderId === orderId && u.filledQty === 75)).toHaveLength(1);
    expect(r.updates.filter((u) => u.orderId === orderId)).toHaveLength(2);
  });

  it('reports connected again after the socket drops', async () => {
    const r = await rig();
    const connects = () => r.states.filter((s) => s === 'connected').length;
    expect(connects()).toBe(1);
    r.fake.dropSockets(apiKey);
    await until(() => connects() === 2, 'reconnect');
    expect(r.states).toContain('disconnected');
    const { orderId } = await r.broker.placeOrder(req());
    r.fake.reject(orderId, 'RMS:Margin Exceeds');
    await until(() => r.updates.some((u) => u.orderId === orderId && u.status === 'rejected'), 'push after reconnect');
    expect(r.updates.find((u) => u.status === 'rejected')?.reason).toBe('RMS:Margin Exceeds');
  });

  it('on a dead token reports session_expired once, stops reconnecting, and resumes with a new token', async () => {
    const r = await rig({ pollIntervalMs: 50 });
    r.fake.expireToken(apiKey);
    await until(() => r.states.includes('session_expired'), 'session_expired');
    const attempts = r.fake.upgradeAttempts(apiKey);
    const requests = r.fake.requests(apiKey).length;
    await new Promise((res) => setTimeout(res, 800)); // longer than any first reconnect delay or poll
    expect(r.states.filter((s) => s === 'session_expired')).toHaveLength(1);
    expect(r.fake.upgradeAttempts(apiKey)).toBe(attempts);
    expect(r.fake.requests(apiKey).length).toBe(requests); // the poll stopped too
    expect(r.states.at(-1)).toBe('session_expired');
    await expect(r.broker.checkSession()).resolves.toMatchObject({ valid: false });

    // The morning login: a new request token exchanged for a new access token.
    const fresh = await exchangeRequestToken({ apiUrl: r.fake.apiUrl, apiKey, apiSecret: 'kiteadaptersecret', requestToken: r.fake.issueRequestToken(apiKey) });
    r.broker.setAccessToken(fresh.accessToken);
    await until(() => r.states.at(-1) === 'connected', 'connected with the new token');
    await expect(r.broker.checkSession()).resolves.toMatchObject({ valid: true });
  });

  it('keeps a working token alive when only the socket is refused (a plan without WebSocket access)', async () => {
    const r = await rig({ pollIntervalMs: 20 }, {}, false);
    r.fake.config.refuseUpgrades = true;
    await r.broker.start();
    await until(() => r.states.at(-1) === 'disconnected' && r.fake.upgradeAttempts(apiKey) === 1, 'refusal handled');
    expect(r.states).not.toContain('session_expired');
    const orderId = r.fake.placeAsUser(apiKey, { tradingsymbol: 'HDFCBANK', exchange: 'NSE', transaction_type: 'BUY', order_type: 'LIMIT', quantity: 5, product: 'CNC', price: 1600 });
    await until(() => r.updates.some((u) => u.orderId === orderId), 'the poll still runs');
    expect(r.fake.upgradeAttempts(apiKey)).toBe(1);
  });

  it('reconnects when the socket goes silent (data watchdog)', async () => {
    const r = await rig({ idleTimeoutMs: 150 }, { heartbeatMs: 60_000 });
    await until(() => r.states.filter((s) => s === 'connected').length >= 2, 'watchdog reconnect');
    expect(r.fake.upgradeAttempts(apiKey)).toBeGreaterThanOrEqual(2);
  });

  it('starts without a token as session_expired and connects once one is set', async () => {
    const r = await rig({ accessToken: null }, {}, false);
    await r.broker.start();
    expect(r.states).toEqual(['session_expired']);
    expect(r.fake.upgradeAttempts(apiKey)).toBe(0);
    r.broker.setAccessToken(r.token);
    await until(() => r.states.at(-1) === 'connected', 'connected');
  });

  it('stop() closes the socket and leaves no timers behind', async () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    const r = await rig({ pollIntervalMs: 20 }, {}, false);
    const before = timeouts();
    await r.broker.start();
    await until(() => r.states.includes('connected'), 'connected');
    expect(timeouts()).toBeGreaterThan(before);
    await r.broker.stop();
    await until(() => r.fake.socketCount(apiKey) === 0, 'socket closed');
    expect(r.states.at(-1)).toBe('stopped');
    expect(timeouts()).toBeLessThanOrEqual(before);
  });
});

describe('KiteBroker opening baseline: overnight positions and holdings', () => {
  /** A raw GET against the fake's REST, as Kite's wire has it (`data` of the envelope). */
  const raw = async (r: Rig, path: string): Promise<unknown> => {
    const res = await fetch(`${r.fake.apiUrl}${path}`, { headers: { 'X-Kite-Version': '3', Authorization: `token ${apiKey}:${r.token}` } });
    return ((await res.json()) as { data: unknown }).data;
  };
  const reliance = testInstrument('RELIANCE');

  it('reads overnight_quantity from the net rows: an overnight long with a sell today on top', async () => {
    const r = await rig();
    r.fake.setOvernightPosition(apiKey, { tradingsymbol: symbol, exchange: 'NFO', product: 'NRML', qty: 150, avgPrice: 110 });
    expect(await r.broker.positions()).toMatchObject([{ product: 'MARGIN', netQty: 150, overnightQty: 150, avgPrice: 110 }]);
    const { orderId } = await r.broker.placeOrder(req({ side: 'SELL', price: 120 }));
    r.fake.fill(orderId, { price: 120 });
    const wire = (await raw(r, '/portfolio/positions')) as { net: Record<string, unknown>[]; day: Record<string, unknown>[] };
    expect(wire.net).toMatchObject([{ tradingsymbol: symbol, quantity: 75, overnight_quantity: 150, buy_quantity: 150, sell_quantity: 75, day_buy_quantity: 0, day_sell_quantity: 75 }]);
    expect(wire.day).toMatchObject([{ tradingsymbol: symbol, quantity: -75, overnight_quantity: 0, sell_quantity: 75 }]);
    const positions = await r.broker.positions();
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ instrument: { segment: 'NSE_FNO', securityId: inst.securityId, symbol }, product: 'MARGIN', netQty: 75, overnightQty: 150 });
  });

  it('reports holdings at opening_quantity, unchanged by a same-day delivery sell (Kite counts it in used_quantity)', async () => {
    const r = await rig();
    r.fake.setHoldings(apiKey, [
      { tradingsymbol: 'RELIANCE', exchange: 'NSE', qty: 10, avgPrice: 1200, t1Qty: 3 },
      { tradingsymbol: 'RELIANCE', exchange: 'BSE', qty: 2, avgPrice: 1190 },
    ]);
    const opening = [
      { instrument: { segment: 'NSE_EQ', securityId: '2885', symbol: 'RELIANCE' }, qty: 10, avgPrice: 1200 },
      { instrument: { segment: 'BSE_EQ', securityId: '500325', symbol: 'RELIANCE' }, qty: 2, avgPrice: 1190 },
    ];
    expect(await r.broker.holdings()).toEqual(opening);
    const { orderId } = await r.broker.placeOrder(req({ instrument: { segment: 'NSE_EQ', securityId: reliance.securityId, symbol: 'RELIANCE' }, side: 'SELL', product: 'CNC', quantity: 4, price: 1400 }));
    r.fake.fill(orderId, { price: 1400 });
    const held = (await raw(r, '/portfolio/holdings')) as Record<string, unknown>[];
    expect(held[0]).toMatchObject({ exchange: 'NSE', product: 'CNC', opening_quantity: 10, quantity: 7, t1_quantity: 3, used_quantity: 4 });
    expect(await r.broker.holdings()).toEqual(opening);
    expect(await r.broker.positions()).toMatchObject([{ instrument: { segment: 'NSE_EQ', securityId: '2885' }, product: 'CNC', netQty: -4, overnightQty: 0 }]);
  });

  it('falls back to quantity + t1_quantity without opening_quantity, skips empty rows, and an empty portfolio is []', async () => {
    const r = await rig();
    expect(await raw(r, '/portfolio/holdings')).toEqual([]);
    expect(await r.broker.holdings()).toEqual([]);
    r.fake.setHoldings(apiKey, [
      { tradingsymbol: 'INFY', exchange: 'NSE', qty: 0, avgPrice: 0 },
      { tradingsymbol: 'HDFCBANK', exchange: 'NSE', qty: 5, avgPrice: 1500, t1Qty: 2 },
    ]);
    r.fake.config.omitOpeningQuantity = true;
    const held = (await raw(r, '/portfolio/holdings')) as Record<string, unknown>[];
    expect(held).toHaveLength(2);
    expect(held[1]).not.toHaveProperty('opening_quantity');
    expect(held[1]).toMatchObject({ quantity: 3, t1_quantity: 2 });
    expect(await r.broker.holdings()).toEqual([{ instrument: { segment: 'NSE_EQ', securityId: '1333', symbol: 'HDFCBANK' }, qty: 5, avgPrice: 1500 }]);
  });
});
