/**
 * /flatten over the real bot, real Dhan adapters and the fake Dhan: a resting SL copy is an
 * order, not a reduction of the position; flatten cancels it first, then closes the whole position
 * in freeze-sized slices; a follower whose positions cannot be read is named, and not flattened.
 * Counts are taken at the fake broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import type { App } from '../../src/app.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';
import { until } from '../chaos/world.js';

const ADMIN = 111;
const LEADER = '1400000001';
const FOLLOWER = '1400000002';
const NIFTY_CE = '61345'; // lot 75; NIFTY's freeze limit is 1,800 → slices of 23 lots (1,725)

describe('/flatten with a resting SL copy, above the freeze limit', () => {
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: App & { logLines: string[] };

  beforeAll(async () => {
    dhan = await startFakeDhan();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    const leaderToken = dhan.addAccount(LEADER);
    const followerToken = dhan.addAccount(FOLLOWER);
    app = await startTestApp(
      {
        TRADING_MODE: 'live',
        TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
        TELEGRAM_API_ROOT: tg.apiRoot,
        TELEGRAM_ADMIN_IDS: String(ADMIN),
        ...dhanAccountEnv('LEADER_', LEADER, leaderToken),
        FOLLOWERS: 'f1',
        ...dhanAccountEnv('FOLLOWER_F1_', FOLLOWER, followerToken),
        ...dhanEndpointsEnv(dhan),
      },
      // No periodic reconcile: the injected read failure below must meet the flatten's read.
      { engine: { reconcileEveryMs: 0 } },
    );
    await dhan.waitForLogin(LEADER, { ok: true });
    await dhan.waitForLogin(FOLLOWER, { ok: true });
    await tg.waitFor((c) => c.method === 'getUpdates');
  });

  afterAll(async () => {
    await app.stop();
    await Promise.all([dhan.close(), tg.close()]);
  });

  const follower = () => app.engine.followers.get('f1')!.broker;
  const pendingAtFake = (pred: (o: ReturnType<FakeDhan['orders']>[number]) => boolean) => dhan.orders(FOLLOWER).filter((o) => pred(o) && o.status === 'PENDING');
  const netAtFake = async () => (await follower().positions()).find((p) => p.instrument.securityId === NIFTY_CE)?.netQty ?? 0;

  it('cancels the SL copy first, then closes 30 lots as 23 + 7 lot market slices: the follower ends flat at the broker', async () => {
    // The leader buys 30 lots; the follower's copy goes out as two slices; all fill.
    const entry = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 2250, orderType: 'LIMIT', productType: 'MARGIN', price: 110 });
    await until(() => pendingAtFake((o) => o.transactionType === 'BUY').length === 2, 'both entry slices working');
    dhan.fill(entry.orderId, { price: 110 });
    for (const o of pendingAtFake((o) => o.transactionType === 'BUY')) dhan.fill(o.orderId, { price: 110 });
    await until(async () => (await netAtFake()) === 2250, 'follower long 30 lots');
    await until(() => app.store.copies.forLeaderOrder(entry.orderId).every((c) => c.state === 'filled'), 'entry copies filled');

    // The leader's far stop-loss: its copy rests at the follower (two slices).
    const sl = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'SELL', quantity: 2250, orderType: 'STOP_LOSS_MARKET', productType: 'MARGIN', triggerPrice: 60 });
    await until(() => pendingAtFake((o) => o.transactionType === 'SELL' && o.orderType === 'STOP_LOSS_MARKET').length === 2, 'SL copies resting');
    const slCopies = dhan.orders(FOLLOWER).filter((o) => o.orderType === 'STOP_LOSS_MARKET');
    await until(() => app.store.copies.forLeaderOrder(sl.orderId).every((c) => c.state === 'open'), 'SL copies open');
    const placedBefore = dhan.placeRequests(FOLLOWER).length;
    expect(placedBefore).toBe(4);

    // Step 1 lists the whole position (the SL does not hide it) and the SL as a resting order.
    tg.sendText(ADMIN, '/flatten f1');
    const proposal = await tg.waitForMessage(ADMIN, /Flatten<\/b> f1/);
    expect(proposal.text).not.toMatch(/No open follower positions/);
    expect(proposal.text).toMatch(/f1\s+NIFTY-Dec2026-26000-CE\s+LONG\s+30 lots \(2250\)/);
    expect(proposal.text).toMatch(/Resting exit orders/);
    tg.click(ADMIN, proposal, tg.buttonData(proposal, 'Flatten'));
    const confirm = await tg.waitForMessage(ADMIN, /Are you sure\?/);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(placedBefore); // one tap placed nothing
    expect(dhan.orders(FOLLOWER).filter((o) => o.status === 'CANCELLED')).toHaveLength(0); // …and cancelled nothing
    tg.click(ADMIN, confirm, tg.buttonData(confirm, 'Yes, flatten now'));
    const done = await tg.waitForMessage(ADMIN, /Flatten sent by 111/);
    expect(done.text).toMatch(/2 market order\(s\)/);
    expect(done.text).toMatch(/Resting exit orders cancelled first/);

    // At the fake: both SL copies cancelled, before the flatten slices arrived; 1,725 + 525 sold at market.
    await app.engine.idle();
    const slNow = dhan.orders(FOLLOWER).filter((o) => slCopies.some((s) => s.orderId === o.orderId));
    expect(slNow.map((o) => o.status)).toEqual(['CANCELLED', 'CANCELLED']);
    const flattenReqs = dhan.placeRequests(FOLLOWER).slice(placedBefore);
    expect(flattenReqs.map((r) => [r.body.transactionType, r.body.orderType, Number(r.body.quantity)])).toEqual([
      ['SELL', 'MARKET', 1725],
      ['SELL', 'MARKET', 525],
    ]);
    expect(new Set(flattenReqs.map((r) => r.body.correlationId)).size).toBe(2);
    const slCancelledAt = Math.max(...slNow.map((o) => o.updatedAt));
    const flattenOrders = dhan.orders(FOLLOWER).filter((o) => o.orderType === 'MARKET');
    expect(Math.min(...flattenOrders.map((o) => o.createdAt))).toBeGreaterThanOrEqual(slCancelledAt);

    await until(() => pendingAtFake((o) => o.orderType === 'MARKET').length === 2, 'flatten slices working');
    for (const o of pendingAtFake((o) => o.orderType === 'MARKET')) dhan.fill(o.orderId, { price: 108 });
    await until(async () => (await netAtFake()) === 0, 'follower flat at the broker');
    await app.engine.idle();
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(placedBefore + 2);
    expect(dhan.orders(FOLLOWER).filter((o) => o.status === 'PENDING')).toHaveLength(0);
  });

  it('a follower whose positions cannot be read is named, and NOT flattened', async () => {
    // The follower holds something again (bought by hand at the broker).
    const manual = dhan.placeAsUser(FOLLOWER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price: 100 });
    await until(() => dhan.orders(FOLLOWER).find((o) => o.orderId === manual.orderId)?.status === 'PENDING', 'manual order working');
    dhan.fill(manual.orderId, { price: 100 });
    await until(async () => (await netAtFake()) === 75, 'follower long 1 lot');
    const before = dhan.placeRequests(FOLLOWER).length;

    dhan.injectError(FOLLOWER, 'any', { status: 500, body: { errorType: 'Internal_Server_Error', errorCode: 'DH-908', errorMessage: 'Internal server error' } }, 1);
    tg.sendText(ADMIN, '/flatten f1');
    const reply = await tg.waitForMessage(ADMIN, /could not read its positions/);
    expect(reply.text).toMatch(/f1<\/b>: could not read its positions/);
    expect(reply.text).toMatch(/NOT flattened/);
    expect(reply.text).not.toMatch(/Step 1 of 2/);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(before);
    expect(await netAtFake()).toBe(75);
  });

  it('/halt lists the position a resting SL copy protects, and cancels that copy', async () => {
    // A new leader stop-loss for its whole position; the copy is what the follower holds (1 lot), and rests.
    const sl = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'SELL', quantity: 2250, orderType: 'STOP_LOSS_MARKET', productType: 'MARGIN', triggerPrice: 50 });
    await until(() => app.store.copies.forLeaderOrder(sl.orderId).some((c) => c.state === 'open' && c.plannedQty === 75), 'SL copy of 1 lot open');
    tg.sendText(ADMIN, '/halt');
    const halted = await tg.waitForMessage(ADMIN, /HALTED<\/b> by 111/);
    expect(halted.text).toMatch(/f1\s+NIFTY-Dec2026-26000-CE\s+LONG\s+1 lot \(75\)/);
    await until(() => app.store.copies.forLeaderOrder(sl.orderId).every((c) => c.state === 'cancelled'), 'SL copy cancelled by the halt');
    expect(await netAtFake()).toBe(75);
  });
});
