/**
 * Flat when the leader is flat (issue 14), through the real composition against the fake Dhan:
 * delivery holdings sold while paused, a leader exit that finds the follower's entry unfilled, an
 * order first seen cancelled after a partial fill, a stale leader snapshot, a cancel refused while
 * the follower order is in transit. Every claim is counted at the fake broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import type { FakeDhanOrder } from '../fakes/dhan/wire.js';
import type { App } from '../../src/app.js';
import type { BrokerOrder } from '../../src/domain/order.js';
import { fillWhenWorking, until } from '../chaos/world.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp } from './harness.js';

const LEADER = '1400000001';
const FOLLOWER = '1400000002';
const RELIANCE = '2885';
const INFY = '1594';
const NIFTY_CE = '61345'; // lot 75

let dhan: FakeDhan | null = null;
let app: (App & { logLines: string[] }) | null = null;

afterEach(async () => {
  await app?.stop();
  await dhan?.close();
  app = null;
  dhan = null;
});

async function start(ratio = '1', seed?: (fake: FakeDhan) => Promise<void> | void): Promise<{ fake: FakeDhan; app: App & { logLines: string[] } }> {
  dhan = await startFakeDhan();
  const leaderToken = dhan.addAccount(LEADER);
  const followerToken = dhan.addAccount(FOLLOWER);
  await seed?.(dhan);
  app = await startTestApp({
    TRADING_MODE: 'live',
    ...dhanAccountEnv('LEADER_', LEADER, leaderToken),
    FOLLOWERS: 'f1',
    ...dhanAccountEnv('FOLLOWER_F1_', FOLLOWER, followerToken),
    FOLLOWER_F1_RATIO: ratio,
    RECONCILE_EVERY_MS: '0',
    ...dhanEndpointsEnv(dhan),
  });
  await dhan.waitForLogin(LEADER, { ok: true });
  await dhan.waitForLogin(FOLLOWER, { ok: true });
  return { fake: dhan, app };
}

/** The follower's net quantity in a security at the fake: opening holdings + signed fills of today. */
function netAtFake(fake: FakeDhan, clientId: string, securityId: string, opening = 0): number {
  return fake.orders(clientId).filter((o) => o.securityId === securityId).reduce((n, o) => n + (o.transactionType === 'BUY' ? o.filledQty : -o.filledQty), opening);
}

const followerOrders = (fake: FakeDhan, securityId: string): FakeDhanOrder[] => fake.orders(FOLLOWER).filter((o) => o.securityId === securityId);

describe('flat when the leader is flat', () => {
  it('CNC shares bought on earlier days, sold by the leader while f1 is paused → f1 sells what it holds, once', async () => {
    const { fake, app } = await start('0.5', (f) => {
      f.setHoldings(LEADER, [{ securityId: INFY, tradingSymbol: 'INFY', qty: 100, avgPrice: 1500 }]);
      f.setHoldings(FOLLOWER, [{ securityId: INFY, tradingSymbol: 'INFY', qty: 60, avgPrice: 1490 }]);
    });
    app.control.pause({ kind: 'follower', id: 'f1' }, null);
    const sell = fake.placeAsUser(LEADER, { securityId: INFY, exchangeSegment: 'NSE_EQ', transactionType: 'SELL', quantity: 100, orderType: 'MARKET', productType: 'CNC' });
    await fillWhenWorking(fake, LEADER, sell.orderId, 1550);
    await until(() => fake.placeRequests(FOLLOWER).length === 1, 'the follower exit');
    await app.engine.idle();
    const [req] = fake.placeRequests(FOLLOWER);
    // An exit of everything the leader held: f1 sells all it holds (60), not 100 × 0.5, paused or not.
    expect(req!.body).toMatchObject({ transactionType: 'SELL', productType: 'CNC', securityId: INFY, quantity: 60 });
    await fillWhenWorking(fake, FOLLOWER, followerOrders(fake, INFY)[0]!.orderId, 1549);
    await until(() => app.store.copies.inStates(['filled']).length === 1, 'the exit filled');
    expect(netAtFake(fake, FOLLOWER, INFY, 60)).toBe(0);
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(1);
  });

  it('leader LIMIT entry fills, the copy fills 4 of 10; the leader exits → the rest is cancelled first, f1 sells 4 and is flat', async () => {
    const { fake, app } = await start('1');
    const buy = fake.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 10, orderType: 'LIMIT', productType: 'INTRADAY', price: 2900 });
    await until(() => followerOrders(fake, RELIANCE).some((o) => o.status === 'PENDING'), 'the entry copy working');
    const entry = followerOrders(fake, RELIANCE)[0]!;
    fake.fill(buy.orderId, { price: 2900 });
    fake.fill(entry.orderId, { price: 2900, qty: 4 });
    await until(() => app.store.copies.inStates(['open']).some((c) => c.filledQty === 4), 'the partial fill seen');
    const exit = fake.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'SELL', quantity: 10, orderType: 'MARKET', productType: 'INTRADAY' });
    await fillWhenWorking(fake, LEADER, exit.orderId, 2910);
    await until(() => fake.placeRequests(FOLLOWER).length === 2, 'the follower exit');
    await app.engine.idle();
    const orders = followerOrders(fake, RELIANCE);
    expect(orders.find((o) => o.orderId === entry.orderId)!.status).toBe('CANCELLED');
    const sells = orders.filter((o) => o.transactionType === 'SELL');
    expect(sells).toHaveLength(1);
    expect(sells[0]!.quantity).toBe(4);
    await fillWhenWorking(fake, FOLLOWER, sells[0]!.orderId, 2909);
    await until(() => netAtFake(fake, FOLLOWER, RELIANCE) === 0, 'f1 flat');
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(2);
    expect(app.logLines.join('')).toMatch(/exit sized again after cancelling 1 unfilled entry: f1 holds 4/);
  });

  it('the copy of a filled leader entry has filled nothing when the leader exits → it is cancelled, no exit is sent, never short', async () => {
    const { fake, app } = await start('1');
    const buy = fake.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 10, orderType: 'LIMIT', productType: 'INTRADAY', price: 2900 });
    await until(() => followerOrders(fake, RELIANCE).some((o) => o.status === 'PENDING'), 'the entry copy working');
    fake.fill(buy.orderId, { price: 2900 });
    await until(() => app.store.leader.get(buy.orderId)?.status === 'filled', 'the leader fill seen');
    const exit = fake.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'SELL', quantity: 10, orderType: 'MARKET', productType: 'INTRADAY' });
    await fillWhenWorking(fake, LEADER, exit.orderId, 2910);
    await until(() => followerOrders(fake, RELIANCE)[0]!.status === 'CANCELLED', 'the stale entry cancelled');
    await until(() => app.store.copies.forLeaderOrder(exit.orderId).some((c) => c.state === 'skipped'), 'the exit decided');
    await app.engine.idle();
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(1);
    expect(netAtFake(fake, FOLLOWER, RELIANCE)).toBe(0);
    expect(app.store.copies.forLeaderOrder(exit.orderId)[0]!.reason).toMatch(/holds no position/);
  });

  it('first sight of an order cancelled after 3 of 10 filled → one MARKET copy of 3, no working order for the rest', async () => {
    const { fake, app } = await start('1', async (f) => {
      const o = f.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 10, orderType: 'LIMIT', productType: 'INTRADAY', price: 2900 });
      await fillWhenWorking(f, LEADER, o.orderId, 2900, 3);
      f.cancelAsUser(o.orderId);
    });
    await until(() => fake.placeRequests(FOLLOWER).length === 1, 'the copy of what filled');
    await app.engine.idle();
    const [req] = fake.placeRequests(FOLLOWER);
    expect(req!.body).toMatchObject({ transactionType: 'BUY', orderType: 'MARKET', quantity: 3, securityId: RELIANCE });
    expect(followerOrders(fake, RELIANCE).filter((o) => o.status === 'PENDING' && o.orderType !== 'MARKET')).toHaveLength(0);
  });

  it('a leader snapshot older than the one recorded (a late poll or book row) never modifies a copy', async () => {
    const { fake, app } = await start('1');
    const o = fake.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price: 120 });
    await until(() => followerOrders(fake, NIFTY_CE).some((x) => x.status === 'PENDING'), 'the copy working');
    fake.modifyAsUser(o.orderId, { price: 121 });
    await until(() => followerOrders(fake, NIFTY_CE)[0]!.price === 121, 'the copy modified');
    await app.engine.idle();
    const copy = followerOrders(fake, NIFTY_CE)[0]!;
    expect(copy.modifications).toBe(1);
    // The same order as it was before the modification, stamped earlier (a poll answered late).
    const stale: BrokerOrder = {
      orderId: o.orderId, tag: null, status: 'open', instrument: { segment: 'NSE_FNO', securityId: NIFTY_CE, symbol: 'NIFTY' }, side: 'BUY', orderType: 'LIMIT',
      product: 'MARGIN', validity: 'DAY', amo: false, quantity: 75, filledQty: 0, avgPrice: 0, price: 120, triggerPrice: 0, reason: null, exchangeTime: Date.now() - 60_000,
    };
    app.engine.intake(stale, 'reconcile');
    await app.engine.idle();
    expect(followerOrders(fake, NIFTY_CE)[0]!.modifications).toBe(1);
    expect(followerOrders(fake, NIFTY_CE)[0]!.price).toBe(121);
    expect(app.store.leader.get(o.orderId)!.price).toBe(121);
  });

  it('a leader update with no commit of its own (TRANSIT → PENDING) never overwrites a later one, and every update is in the event log', async () => {
    const { fake, app } = await start('1');
    const base: BrokerOrder = {
      orderId: 'L-REC-1', tag: null, status: 'transit', instrument: { segment: 'NSE_FNO', securityId: NIFTY_CE, symbol: 'NIFTY' }, side: 'BUY', orderType: 'LIMIT',
      product: 'MARGIN', validity: 'DAY', amo: false, quantity: 75, filledQty: 0, avgPrice: 0, price: 120, triggerPrice: 0, reason: null, exchangeTime: Date.now(),
    };
    // Synchronously, as three frames read in one turn: the mirror, a status change from which nothing
    // follows (it waits for the next commit), then a modification committed on the copy path first.
    app.engine.intake(base, 'stream');
    app.engine.intake({ ...base, status: 'open' }, 'stream');
    app.engine.intake({ ...base, status: 'open', price: 121 }, 'stream');
    app.store.flushLater();
    expect(app.store.leader.get('L-REC-1')).toMatchObject({ status: 'open', price: 121 });
    await until(() => followerOrders(fake, NIFTY_CE)[0]?.price === 121, 'the copy modified');
    await app.engine.idle();
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(1);
    expect(app.store.leader.events('L-REC-1').map((e) => [e.status, e.price])).toEqual([
      ['transit', 120],
      ['open', 120],
      ['open', 121],
    ]);
  });

  it('a leader cancel while the copy is still in transit at Dhan (DH-906) is asked again until the copy is cancelled', async () => {
    const { fake, app } = await start('1');
    const o = fake.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 10, orderType: 'LIMIT', productType: 'INTRADAY', price: 2900 });
    await until(() => followerOrders(fake, RELIANCE).length === 1, 'the copy at the follower');
    // From now on new orders stay in TRANSIT for 700 ms; the leader's cancel comes at once.
    fake.setTransitDelay(700);
    fake.cancelAsUser(o.orderId);
    // Place a second leader order to have one copy caught in transit when its leader cancels.
    const o2 = fake.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 5, orderType: 'LIMIT', productType: 'INTRADAY', price: 2899 });
    await until(() => followerOrders(fake, RELIANCE).length === 2, 'the second copy sent', 10_000);
    expect(followerOrders(fake, RELIANCE)[1]!.status).toBe('TRANSIT');
    await until(() => fake.orders(LEADER).find((x) => x.orderId === o2.orderId)!.status === 'PENDING', 'the leader order at the exchange', 10_000);
    fake.cancelAsUser(o2.orderId);
    await until(() => followerOrders(fake, RELIANCE).every((x) => x.status === 'CANCELLED'), 'both copies cancelled at the follower', 15_000);
    await app.engine.idle();
    expect(fake.placeRequests(FOLLOWER)).toHaveLength(2);
    expect(app.store.copies.forLeaderOrder(o2.orderId)[0]!.state).toBe('cancelled');
    expect(app.logLines.join('')).toMatch(/cancel refused: the order is still in transit; asking again/);
  });
});
