/**
 * A follower's daily loss limit (issue 17) end to end: a Dhan leader and follower at the fake Dhan,
 * the real composition and bot over the fake Telegram.
 * - A follower fill that takes today's P&L below −X stops its entries: the next leader entry is
 *   skipped for it (nothing placed at the fake, the reason stored), an exit still goes, one alert,
 *   and /status shows it.
 * - With ON_MAX_LOSS=flatten its position is closed exactly once: one closing MARKET order at the
 *   fake, the follower flat there, nothing more on later fills.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import type { App } from '../../src/app.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';
import { fillWhenWorking, until } from '../chaos/world.js';

const ADMIN = 111;
const NIFTY_CE = '61345'; // NIFTY 26000 CE, lot 75
const NIFTY_PE = '61346'; // NIFTY 26000 PE, lot 75
const LOT = 75;

type TestApp = App & { logLines: string[] };
interface World {
  dhan: FakeDhan;
  tg: FakeTelegram;
  app: TestApp;
}

async function startWorld(leader: string, follower: string, extra: Record<string, string>): Promise<World> {
  const dhan = await startFakeDhan();
  const tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
  const leaderToken = dhan.addAccount(leader);
  const followerToken = dhan.addAccount(follower);
  const app = await startTestApp({
    TRADING_MODE: 'live',
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_ADMIN_IDS: String(ADMIN),
    ...dhanAccountEnv('LEADER_', leader, leaderToken),
    FOLLOWERS: 'f1',
    ...dhanAccountEnv('FOLLOWER_F1_', follower, followerToken),
    ...dhanEndpointsEnv(dhan),
    FOLLOWER_F1_MAX_DAILY_LOSS_INR: '5000',
    ...extra,
  });
  await dhan.waitForLogin(leader, { ok: true });
  await dhan.waitForLogin(follower, { ok: true });
  await tg.waitFor((c) => c.method === 'getUpdates');
  return { dhan, tg, app };
}

const buy = (securityId: string, quantity: number, price: number) => ({ securityId, exchangeSegment: 'NSE_FNO', transactionType: 'BUY' as const, quantity, orderType: 'LIMIT', productType: 'MARGIN', price });

/**
 * The follower buys 2 lots of the CE at 120, then 1 more at 50 (the leader's second order stays
 * working; only the follower's copy fills): marked at 50, today's P&L is 150 × −70 = −₹10,500.
 */
async function loseMoney(w: World, leader: string, follower: string): Promise<void> {
  const { dhan, app } = w;
  const first = dhan.placeAsUser(leader, buy(NIFTY_CE, 2 * LOT, 120));
  await until(() => app.store.copies.forLeaderOrder(first.orderId)[0]?.state === 'open', 'the first entry copy working', 5000);
  dhan.fill(first.orderId, { price: 120 });
  await fillWhenWorking(dhan, follower, app.store.copies.forLeaderOrder(first.orderId)[0]!.followerOrderId!, 120);
  await until(() => app.store.copies.forLeaderOrder(first.orderId)[0]?.state === 'filled', 'the first entry copy filled', 5000);
  expect(app.engine.lossGuard!.status('f1')).toMatchObject({ pnlInr: 0, headroomInr: 5000, stopped: false });

  const second = dhan.placeAsUser(leader, buy(NIFTY_CE, LOT, 50));
  await until(() => app.store.copies.forLeaderOrder(second.orderId)[0]?.state === 'open', 'the second entry copy working', 5000);
  await fillWhenWorking(dhan, follower, app.store.copies.forLeaderOrder(second.orderId)[0]!.followerOrderId!, 50);
  await until(() => app.store.copies.forLeaderOrder(second.orderId)[0]?.state === 'filled', 'the second entry copy filled', 5000);
}

const STOPPED = 'loss limit: -₹10,500 ≤ -₹5,000 today; entries stopped until the next trading day';
const tripAlerts = (w: World) => w.tg.messages(ADMIN).filter((m) => /Loss limit reached/.test(m.text ?? ''));

describe('ON_MAX_LOSS=stop: entries stop, exits go, one alert', () => {
  const LEADER = '1700000011';
  const FOLLOWER = '1700000012';
  let w: World;
  beforeAll(async () => {
    w = await startWorld(LEADER, FOLLOWER, {});
  });
  afterAll(async () => {
    await w.app.stop();
    await Promise.all([w.dhan.close(), w.tg.close()]);
  });

  it('the fill that takes P&L below −₹5,000 stops f1: one alert naming it, the P&L, the limit and what happens', async () => {
    await loseMoney(w, LEADER, FOLLOWER);
    const alert = await w.tg.waitForMessage(ADMIN, /Loss limit reached/);
    expect(alert.text).toContain('<b>f1</b>: Loss limit reached');
    expect(alert.text).toContain('P&amp;L today -₹10,500 ≤ -₹5,000 (limit ₹5,000)');
    expect(alert.text).toContain('Entries stopped for f1 until the next trading day; exits are still copied');
    expect(w.app.engine.lossGuard!.status('f1')).toMatchObject({ pnlInr: -10_500, headroomInr: -5_500, stopped: true, why: STOPPED });
  });

  it('the next leader entry is skipped for f1 with the reason, nothing placed at the fake', async () => {
    const { dhan, app } = w;
    const before = dhan.placeRequests(FOLLOWER).length;
    const o = dhan.placeAsUser(LEADER, buy(NIFTY_PE, LOT, 100));
    await until(() => app.store.copies.forLeaderOrder(o.orderId).length === 1, 'the entry planned', 5000);
    await app.engine.idle();
    expect(app.store.copies.forLeaderOrder(o.orderId).map((c) => [c.state, c.reason])).toEqual([['skipped', STOPPED]]);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(before);
  });

  it('an exit still goes: the leader sells its 2 lots, the follower’s SELL is placed', async () => {
    const { dhan, app } = w;
    const before = dhan.placeRequests(FOLLOWER).length;
    const o = dhan.placeAsUser(LEADER, { ...buy(NIFTY_CE, 2 * LOT, 55), transactionType: 'SELL' });
    await until(() => dhan.placeRequests(FOLLOWER).length === before + 1, 'the exit copy placed', 5000);
    expect(dhan.placeRequests(FOLLOWER).at(-1)!.body).toMatchObject({ transactionType: 'SELL', securityId: NIFTY_CE });
    await until(() => app.store.copies.forLeaderOrder(o.orderId)[0]?.state === 'open', 'the exit copy working', 5000);
    expect(app.store.copies.forLeaderOrder(o.orderId)[0]).toMatchObject({ kind: 'exit', side: 'SELL' });
    // Its fill is booked and evaluated again: still one alert.
    await fillWhenWorking(dhan, FOLLOWER, app.store.copies.forLeaderOrder(o.orderId)[0]!.followerOrderId!, 55);
    await until(() => app.store.copies.forLeaderOrder(o.orderId)[0]?.state === 'filled', 'the exit copy filled', 5000);
    await app.engine.idle();
    expect(tripAlerts(w)).toHaveLength(1);
  });

  it('/status marks f1 stopped by its loss limit, with the reason', async () => {
    w.tg.sendText(ADMIN, '/status');
    const m = await w.tg.waitForMessage(ADMIN, /LOSS LEFT/);
    expect(m.text).toMatch(/f1 .*STOP/);
    expect(m.text).toContain(`🛑 <b>f1</b> ${STOPPED}`);
  });
});

describe('ON_MAX_LOSS=flatten: the position is closed exactly once', () => {
  const LEADER = '1700000021';
  const FOLLOWER = '1700000022';
  let w: World;
  beforeAll(async () => {
    w = await startWorld(LEADER, FOLLOWER, { FOLLOWER_F1_ON_MAX_LOSS: 'flatten' });
  });
  afterAll(async () => {
    await w.app.stop();
    await Promise.all([w.dhan.close(), w.tg.close()]);
  });

  it('the working entry copy cancelled first, one closing MARKET order for the 3 lots at the fake, the follower flat there, the result alerted, no second flatten', async () => {
    const { dhan, tg, app } = w;
    const sells = () => dhan.placeRequests(FOLLOWER).filter((r) => r.body.transactionType === 'SELL');
    const net = async () => (await app.engine.followers.get('f1')!.broker.positions()).find((p) => p.instrument.securityId === NIFTY_CE)?.netQty ?? 0;
    // A PE entry copy rests unfilled at the follower: the flatten cancels it (it would reopen a position).
    const resting = dhan.placeAsUser(LEADER, buy(NIFTY_PE, LOT, 80));
    await until(() => app.store.copies.forLeaderOrder(resting.orderId)[0]?.state === 'open', 'the PE entry copy working', 5000);
    const restingAtFake = app.store.copies.forLeaderOrder(resting.orderId)[0]!.followerOrderId!;
    await loseMoney(w, LEADER, FOLLOWER);
    expect(await net()).toBe(3 * LOT);
    const alert = await tg.waitForMessage(ADMIN, /Loss limit reached/);
    expect(alert.text).toContain('ON_MAX_LOSS=flatten: cancelling its working copies and closing its positions at market now');
    await until(() => sells().length === 1, 'the closing order placed', 5000);
    expect(dhan.orders(FOLLOWER).find((o) => o.orderId === restingAtFake)!.status).toBe('CANCELLED');
    expect(app.store.copies.forLeaderOrder(resting.orderId)[0]).toMatchObject({ state: 'cancelled' });
    expect(sells()[0]!.body).toMatchObject({ orderType: 'MARKET', quantity: 3 * LOT, securityId: NIFTY_CE, productType: 'MARGIN' });
    const result = await tg.waitForMessage(ADMIN, /Loss-limit flatten of f1/);
    expect(result.text).toContain('1 closing order(s) at market: SELL 225 NIFTY');
    expect(result.text).toContain('1 working copy cancelled first');
    const close = dhan.orders(FOLLOWER).find((o) => o.transactionType === 'SELL')!;
    await fillWhenWorking(dhan, FOLLOWER, close.orderId, 48);
    await until(async () => (await net()) === 0, 'the follower flat at the fake', 5000);
    // Its fill and later prices are evaluated again: nothing more is closed, no second alert.
    await until(() => app.engine.lossGuard!.status('f1')!.pnlInr === 150 * -70 + 225 * -2 + 0, 'the closing fill booked', 5000);
    dhan.fill(dhan.orders(LEADER).find((o) => o.price === 50)!.orderId, { price: 40 });
    await app.engine.idle();
    expect(sells()).toHaveLength(1);
    expect(tripAlerts(w)).toHaveLength(1);
    // A new leader entry is skipped for f1, nothing placed.
    const before = dhan.placeRequests(FOLLOWER).length;
    const o = dhan.placeAsUser(LEADER, buy(NIFTY_PE, LOT, 100));
    await until(() => app.store.copies.forLeaderOrder(o.orderId).length === 1, 'the entry planned', 5000);
    expect(app.store.copies.forLeaderOrder(o.orderId)[0]).toMatchObject({ state: 'skipped', reason: expect.stringMatching(/^loss limit: -₹10,500 ≤ -₹5,000 today/) });
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(before);
  });
});
