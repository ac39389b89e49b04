/**
 * The chaos suite: dropped sockets, duplicated updates, 5xx and hung responses, bursts against a
 * rate limit, modify/cancel racing placement. Every test asserts exact counts at the fake broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DHAN_ERRORS } from '../fakes/dhan.js';
import { LEADER, NIFTY_CE, RELIANCE, clientIdOf, startWorld, until, type World } from './world.js';

let world: World | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

const buy = (securityId: string, quantity: number, price: number, segment = 'NSE_FNO') => ({
  securityId,
  exchangeSegment: segment,
  transactionType: 'BUY' as const,
  quantity,
  orderType: 'LIMIT',
  productType: 'MARGIN',
  price,
});

describe('chaos: exactly once, never missed', () => {
  it('1. leader socket dropped while orders are placed (visible only in the REST book): each copied once', async () => {
    world = await startWorld();
    const w = world;
    const f1 = clientIdOf(w, 'f1');
    w.dhan.dropSockets(LEADER);
    const ids = [1, 2, 3, 4, 5].map((i) => w.dhan.placeAsUser(LEADER, buy(RELIANCE, i, 1300 + i, 'NSE_EQ')).orderId);
    await until(() => w.dhan.placeRequests(f1).length >= 5, 'five copies');
    await w.app.engine.reconcile();
    await w.app.engine.idle();
    expect(w.dhan.placeRequests(f1)).toHaveLength(5);
    const quantities = w.dhan.placeRequests(f1).map((r) => Number(r.body.quantity)).sort();
    expect(quantities).toEqual([1, 2, 3, 4, 5]);
    for (const id of ids) expect(w.app.store.copies.forLeaderOrder(id)).toHaveLength(1);
  });

  it('2. every update delivered three times: one copy each, and the final state is right', async () => {
    world = await startWorld();
    const w = world;
    const f1 = clientIdOf(w, 'f1');
    w.dhan.duplicatePushes(3);
    const a = w.dhan.placeAsUser(LEADER, buy(NIFTY_CE, 150, 120));
    const b = w.dhan.placeAsUser(LEADER, buy(RELIANCE, 10, 1290, 'NSE_EQ'));
    await until(() => w.dhan.placeRequests(f1).length >= 2, 'two copies');
    w.dhan.modifyAsUser(b.orderId, { price: 1295, quantity: 10, orderType: 'LIMIT' });
    w.dhan.cancelAsUser(a.orderId);
    await until(() => {
      const ca = w.app.store.copies.forLeaderOrder(a.orderId)[0];
      const cb = w.app.store.copies.forLeaderOrder(b.orderId)[0];
      return ca?.state === 'cancelled' && cb?.price === 1295;
    }, 'cancel and modify mirrored');
    await w.app.engine.idle();
    expect(w.dhan.placeRequests(f1)).toHaveLength(2);
    const book = w.dhan.orders(f1);
    expect(book).toHaveLength(2);
    const copyA = book.find((o) => o.securityId === NIFTY_CE)!;
    const copyB = book.find((o) => o.securityId === RELIANCE)!;
    expect(copyA.status).toBe('CANCELLED');
    expect(copyB.status).toBe('PENDING');
    expect(copyB.price).toBe(1295);
  });

  it('3a. follower place answered 500: looked up by tag, placed once more with the same tag → exactly one order', async () => {
    world = await startWorld();
    const w = world;
    const f1 = clientIdOf(w, 'f1');
    w.dhan.injectError(f1, 'place', { status: 500, body: { errorType: 'Server', errorCode: 'DH-908', errorMessage: 'Internal server error' } }, 1);
    const o = w.dhan.placeAsUser(LEADER, buy(NIFTY_CE, 75, 121));
    await until(() => w.app.store.copies.forLeaderOrder(o.orderId)[0]?.state === 'open', 'copy open');
    expect(w.dhan.orders(f1)).toHaveLength(1);
    const tags = w.dhan.placeRequests(f1).map((r) => r.body.correlationId);
    expect(tags).toHaveLength(2); // the 500, then the single retry
    expect(new Set(tags).size).toBe(1);
    void DHAN_ERRORS;
  });

  it('3b. follower place accepted but the answer never arrives: found by tag and adopted → exactly one order', async () => {
    world = await startWorld();
    const w = world;
    const f1 = clientIdOf(w, 'f1');
    w.dhan.injectError(f1, 'place', 'accept-then-hang', 1);
    const o = w.dhan.placeAsUser(LEADER, buy(NIFTY_CE, 75, 122));
    await until(() => w.app.store.copies.forLeaderOrder(o.orderId)[0]?.state === 'open', 'copy adopted');
    await w.app.engine.idle();
    expect(w.dhan.placeRequests(f1)).toHaveLength(1);
    expect(w.dhan.orders(f1)).toHaveLength(1);
    expect(w.app.store.copies.forLeaderOrder(o.orderId)[0]?.followerOrderId).toBe(w.dhan.orders(f1)[0]?.orderId);
  });

  it('5. 25 leader orders in a burst against a 10/s follower: all 25 placed once, close to the minimum time', async () => {
    world = await startWorld({ ordersPerSecond: '10', fake: { orderRatePerSec: 10 } });
    const w = world;
    const f1 = clientIdOf(w, 'f1');
    const t0 = performance.now();
    for (let i = 0; i < 25; i++) w.dhan.placeAsUser(LEADER, buy(RELIANCE, 1 + i, 1200 + i, 'NSE_EQ'));
    await until(() => w.dhan.placeRequests(f1).filter((r) => r.status === 200).length >= 25, '25 copies', 30_000);
    const elapsed = (performance.now() - t0) / 1000;
    await w.app.engine.idle();
    const accepted = w.dhan.placeRequests(f1).filter((r) => r.status === 200);
    expect(accepted).toHaveLength(25);
    expect(new Set(accepted.map((r) => r.body.correlationId)).size).toBe(25);
    expect(w.dhan.orders(f1)).toHaveLength(25);
    // 10 go at once, the other 15 at 10/s: at least 1.5 s; within 5 s of that.
    expect(elapsed).toBeLessThan(1.5 + 5);
  });

  it('6. modify and cancel racing the original placement: the follower ends in the leader\'s state', async () => {
    world = await startWorld({ followers: 2 });
    const w = world;
    const o = w.dhan.placeAsUser(LEADER, buy(NIFTY_CE, 150, 118));
    // Dhan refuses a cancel while the order is in TRANSIT: change it the moment it is PENDING,
    // while the followers' placements are still in flight.
    await until(() => w.dhan.orders(LEADER).find((x) => x.orderId === o.orderId)?.status === 'PENDING', 'leader order pending');
    w.dhan.modifyAsUser(o.orderId, { price: 117, quantity: 225, orderType: 'LIMIT' });
    w.dhan.cancelAsUser(o.orderId);
    await until(() => w.app.store.copies.forLeaderOrder(o.orderId).every((c) => c.state === 'cancelled'), 'copies cancelled');
    await w.app.engine.idle();
    for (const f of w.followers) {
      const book = w.dhan.orders(clientIdOf(w, f));
      expect(book.length).toBeLessThanOrEqual(1);
      for (const ord of book) expect(ord.status).toBe('CANCELLED');
    }
  });
});
