/**
 * Freeze quantity: a NIFTY copy above the exchange's freeze limit (1,800) goes out as legal slices
 * of whole lots, each with its own tag, tracked, modified and cancelled like any copy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LEADER, NIFTY_CE, clientIdOf, startWorld, until, type World } from './world.js';

let world: World | null = null;
afterEach(async () => {
  await world?.close();
  world = null;
});

describe('freeze-quantity slicing', () => {
  it('30 lots of NIFTY → slices of 23 + 7 lots; growing the order adds a slice; a cancel cancels them all', async () => {
    world = await startWorld();
    const w = world;
    const f1 = clientIdOf(w, 'f1');
    const o = w.dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 30 * 75, orderType: 'LIMIT', productType: 'MARGIN', price: 110 });
    await until(() => { const cs = w.app.store.copies.forLeaderOrder(o.orderId); return cs.length === 2 && cs.every((c) => c.state === 'open'); }, 'slices open');
    const places = w.dhan.placeRequests(f1);
    expect(places.map((p) => Number(p.body.quantity))).toEqual([1725, 525]);
    expect(new Set(places.map((p) => p.body.correlationId)).size).toBe(2);

    w.dhan.modifyAsUser(o.orderId, { quantity: 50 * 75, price: 109, orderType: 'LIMIT' });
    await until(() => w.dhan.orders(f1).length === 3 && w.dhan.orders(f1).every((x) => x.status === 'PENDING' && x.price === 109), 'three slices at the new price');
    expect(w.dhan.orders(f1).map((x) => x.quantity).sort((a, b) => b - a)).toEqual([1725, 1725, 300]);

    w.dhan.cancelAsUser(o.orderId);
    await until(() => w.dhan.orders(f1).every((x) => x.status === 'CANCELLED'), 'all slices cancelled');
    await w.app.engine.idle();
    expect(w.dhan.placeRequests(f1)).toHaveLength(3);
    expect(w.app.store.copies.forLeaderOrder(o.orderId).map((c) => c.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });
});
