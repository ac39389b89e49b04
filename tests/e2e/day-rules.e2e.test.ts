/**
 * The day rules (issue 17) through the real composition, a Dhan leader and Dhan followers at the
 * fake Dhan, the real bot over the fake Telegram, jobs run by hand on a manual clock:
 * - SQUARE_OFF_AT at 15:10 on a Monday: the working intraday entry copy is cancelled first, then
 *   the intraday position copies opened is closed at market, once; the CNC position and an intraday
 *   position the follower opened by hand are left alone. One summary alert.
 * - On Christmas (a shipped NSE holiday) the token nag, the square-off and the day summary do not
 *   run; the day before, the same nag does.
 * - The stale-child rule: the leader fills, the followers' LIMIT copies stay PENDING; after N s
 *   `cancel` cancels f1's, `chase` modifies f2's to a more marketable price, at most 3 times.
 * Counts are taken at the fake broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/infra/clock.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';
import { fillWhenWorking, until } from '../chaos/world.js';

const ADMIN = 111;
const NIFTY_CE = '61345'; // lot 75, tick 0.05
const NIFTY_PE = '61346';
const RELIANCE = '2885'; // NSE equity
const LOT = 75;
// Monday 7 Dec 2026 (a trading day), IST = UTC + 5:30.
const MON_1400 = Date.parse('2026-12-07T08:30:00Z');
const MON_1510 = Date.parse('2026-12-07T09:40:00Z');
const XMAS_0830 = Date.parse('2026-12-25T03:00:00Z');
const XMAS_1510 = Date.parse('2026-12-25T09:40:00Z');
const XMAS_1545 = Date.parse('2026-12-25T10:15:00Z');
const XMAS_EVE_0830 = Date.parse('2026-12-24T03:00:00Z');

type TestApp = App & { logLines: string[] };

async function startWorld(leader: string, followers: Record<string, string>, clock: ManualClock, extra: Record<string, string>): Promise<{ dhan: FakeDhan; tg: FakeTelegram; app: TestApp }> {
  const dhan = await startFakeDhan();
  const tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
  const env: Record<string, string> = {
    TRADING_MODE: 'live',
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_ADMIN_IDS: String(ADMIN),
    ...dhanAccountEnv('LEADER_', leader, dhan.addAccount(leader)),
    FOLLOWERS: Object.keys(followers).join(','),
    ...dhanEndpointsEnv(dhan),
    ...extra,
  };
  for (const [id, client] of Object.entries(followers)) Object.assign(env, dhanAccountEnv(`FOLLOWER_${id.toUpperCase()}_`, client, dhan.addAccount(client)));
  // No start-up token check: the fake mints tokens on the real clock, this clock is elsewhere.
  const app = await startTestApp(env, { clock, jobs: { schedule: false, startupCheck: false } });
  await dhan.waitForLogin(leader, { ok: true });
  for (const client of Object.values(followers)) await dhan.waitForLogin(client, { ok: true });
  await tg.waitFor((c) => c.method === 'getUpdates');
  return { dhan, tg, app };
}

describe('SQUARE_OFF_AT, and a holiday', () => {
  const LEADER = '1700000001';
  const FOLLOWER = '1700000002';
  const clock = new ManualClock(MON_1400);
  let w: Awaited<ReturnType<typeof startWorld>>;
  beforeAll(async () => {
    w = await startWorld(LEADER, { f1: FOLLOWER }, clock, { SQUARE_OFF_AT: '15:10', COPY_ENTRIES_UNTIL: '15:00' });
  });
  afterAll(async () => {
    await w.app.stop();
    await Promise.all([w.dhan.close(), w.tg.close()]);
  });

  const net = async (securityId: string, product: string) => {
    const ps = await w.app.engine.followers.get('f1')!.broker.positions();
    return ps.find((p) => p.instrument.securityId === securityId && p.product === product)?.netQty ?? 0;
  };
  /** The leader buys; its copy is filled at the follower too. */
  async function copied(securityId: string, segment: string, product: string, qty: number, price: number): Promise<void> {
    const { dhan, app } = w;
    const o = dhan.placeAsUser(LEADER, { securityId, exchangeSegment: segment, transactionType: 'BUY', quantity: qty, orderType: 'LIMIT', productType: product, price });
    await until(() => app.store.copies.forLeaderOrder(o.orderId)[0]?.state === 'open', 'the copy working');
    await fillWhenWorking(dhan, LEADER, o.orderId, price);
    // The copy is `open` once the broker acknowledged it; the fake may still hold it in TRANSIT.
    await fillWhenWorking(dhan, FOLLOWER, app.store.copies.forLeaderOrder(o.orderId)[0]!.followerOrderId!, price);
    await until(() => app.store.copies.forLeaderOrder(o.orderId)[0]?.state === 'filled', 'the copy filled');
  }

  it('at 15:10 on a trading day: the working intraday entry is cancelled, the intraday position from copies closed at market, CNC and a hand-made position left', async () => {
    const { dhan, tg, app } = w;
    await copied(NIFTY_CE, 'NSE_FNO', 'INTRADAY', 2 * LOT, 110);
    await copied(RELIANCE, 'NSE_EQ', 'CNC', 10, 1400);
    // The follower's own intraday trade, not a copy.
    const own = dhan.placeAsUser(FOLLOWER, { securityId: NIFTY_PE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: LOT, orderType: 'LIMIT', productType: 'INTRADAY', price: 90 });
    await fillWhenWorking(dhan, FOLLOWER, own.orderId, 90);
    // A leader entry still working: its copy rests at the follower.
    const resting = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: LOT, orderType: 'LIMIT', productType: 'INTRADAY', price: 100 });
    await until(() => app.store.copies.forLeaderOrder(resting.orderId)[0]?.state === 'open', 'the resting entry copy working');
    const restingOrder = app.store.copies.forLeaderOrder(resting.orderId)[0]!.followerOrderId!;
    await until(async () => (await net(NIFTY_CE, 'INTRADAY')) === 2 * LOT && (await net(RELIANCE, 'CNC')) === 10 && (await net(NIFTY_PE, 'INTRADAY')) === LOT, 'the follower holds all three');
    const before = dhan.placeRequests(FOLLOWER).length;

    clock.set(MON_1510);
    await app.jobs.run('square-off');

    // At the fake: the resting entry cancelled, then ONE market sell of the copied 2 lots; nothing else.
    expect(dhan.orders(FOLLOWER).find((o) => o.orderId === restingOrder)?.status).toBe('CANCELLED');
    const sent = dhan.placeRequests(FOLLOWER).slice(before);
    expect(sent.map((r) => [r.body.securityId, r.body.transactionType, r.body.orderType, r.body.productType, Number(r.body.quantity)])).toEqual([[NIFTY_CE, 'SELL', 'MARKET', 'INTRADAY', 2 * LOT]]);
    const close = dhan.orders(FOLLOWER).find((o) => o.orderType === 'MARKET')!;
    expect(close.createdAt).toBeGreaterThanOrEqual(dhan.orders(FOLLOWER).find((o) => o.orderId === restingOrder)!.updatedAt);
    const summary = await tg.waitForMessage(ADMIN, /Square-off 15:10 IST/);
    expect(summary.text).toContain('f1: SELL 2 lots (150) NIFTY-Dec2026-26000-CE at market (sent); 1 working intraday copy cancelled first.');
    expect(summary.text).not.toMatch(/RELIANCE|26000-PE|Not done/);

    await fillWhenWorking(dhan, FOLLOWER, close.orderId, 108);
    await until(async () => (await net(NIFTY_CE, 'INTRADAY')) === 0, 'the follower flat in NIFTY intraday');
    expect(await net(RELIANCE, 'CNC')).toBe(10);
    expect(await net(NIFTY_PE, 'INTRADAY')).toBe(LOT);

    // Once a day: run again, nothing more is sent, no second summary.
    await app.jobs.run('square-off');
    await app.engine.idle();
    await app.notifier.drained();
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(before + 1);
    expect(tg.messages(ADMIN).filter((m) => /Square-off/.test(m.text ?? ''))).toHaveLength(1);
  });

  it('on Christmas: no token nag, no square-off, no day summary; on Christmas Eve the same nag goes out', async () => {
    const { dhan, tg, app } = w;
    const nags = () => tg.messages(ADMIN).filter((m) => /Broker login needed/.test(m.text ?? '')).length;
    // f1's token dies: a problem on any day.
    dhan.expireToken(FOLLOWER);
    await app.sessions.check(['f1']);
    expect(app.sessions.problems().map((p) => p.accountId)).toContain('f1');
    const placed = dhan.placeRequests(FOLLOWER).length;
    const summaries = tg.messages(ADMIN).filter((m) => /Day summary/.test(m.text ?? '')).length;

    clock.set(XMAS_0830);
    await app.jobs.run('token-nag');
    clock.set(XMAS_1510);
    await app.jobs.run('square-off');
    clock.set(XMAS_1545);
    await app.jobs.run('daily-summary');
    await app.notifier.drained();
    expect(nags()).toBe(0);
    expect(tg.messages(ADMIN).filter((m) => /Day summary/.test(m.text ?? ''))).toHaveLength(summaries);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(placed);

    clock.set(XMAS_EVE_0830);
    await app.jobs.run('token-nag');
    const nag = await tg.waitForMessage(ADMIN, /Broker login needed/);
    expect(nag.text).toContain('f1');
    expect(nags()).toBe(1);
  });
});

describe('unfilled copies: cancel and chase', () => {
  const LEADER = '1700000011';
  const F1 = '1700000012';
  const F2 = '1700000013';
  const clock = new ManualClock(MON_1400);
  let w: Awaited<ReturnType<typeof startWorld>>;
  beforeAll(async () => {
    w = await startWorld(LEADER, { f1: F1, f2: F2 }, clock, {
      FOLLOWER_F1_UNFILLED_AFTER_S: '30',
      FOLLOWER_F1_UNFILLED: 'cancel',
      FOLLOWER_F2_UNFILLED_AFTER_S: '30',
      FOLLOWER_F2_UNFILLED: 'chase',
    });
  });
  afterAll(async () => {
    await w.app.stop();
    await Promise.all([w.dhan.close(), w.tg.close()]);
  });

  it('after the leader fills, f1 is cancelled and f2 chased 120 → 120.1 → 120.2 → 120.3, then left', async () => {
    const { dhan, tg, app } = w;
    const o = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: LOT, orderType: 'LIMIT', productType: 'MARGIN', price: 120 });
    await until(() => app.store.copies.forLeaderOrder(o.orderId).filter((c) => c.state === 'open' && c.followerOrderId).length === 2, 'both copies working');
    const copyOf = (id: string) => app.store.copies.forLeaderOrder(o.orderId).find((c) => c.followerId === id)!;
    const atFake = (client: string, id: string) => dhan.orders(client).find((x) => x.orderId === copyOf(id).followerOrderId)!;
    // Working for a minute before the leader fills: nothing happens (the clock starts at the fill).
    clock.advance(60_000);
    app.unfilled.tick();
    await app.unfilled.idle();
    expect([atFake(F1, 'f1').status, atFake(F2, 'f2').modifications]).toEqual(['PENDING', 0]);

    await fillWhenWorking(dhan, LEADER, o.orderId, 120);
    await until(() => app.store.leader.get(o.orderId)?.status === 'filled', 'the leader fill booked');
    const step = async (ms: number) => {
      clock.advance(ms);
      app.unfilled.tick();
      await app.unfilled.idle();
    };
    await step(29_000);
    expect([atFake(F1, 'f1').status, atFake(F2, 'f2').modifications]).toEqual(['PENDING', 0]);

    await step(1_000); // 30 s after the fill
    await until(() => atFake(F1, 'f1').status === 'CANCELLED' && atFake(F2, 'f2').modifications === 1, 'f1 cancelled, f2 chased once');
    expect(copyOf('f1')).toMatchObject({ state: 'cancelled', reason: "unfilled 30 s after the leader's fill (rule: cancel)" });
    expect(atFake(F2, 'f2').price).toBe(120.1);
    await tg.waitForMessage(ADMIN, /f2<\/b>: BUY 75 NIFTY-Dec2026-26000-CE entry copy .* chasing, limit 120 → 120\.1 \(1 of at most 3\)/);

    await step(29_000);
    expect(atFake(F2, 'f2').modifications).toBe(1);
    await step(1_000);
    await until(() => atFake(F2, 'f2').modifications === 2, 'chase 2');
    await step(30_000);
    await until(() => atFake(F2, 'f2').modifications === 3, 'chase 3');
    expect(atFake(F2, 'f2').price).toBe(120.3);
    expect(copyOf('f2').reason).toContain("unfilled 30 s after the leader's fill: chased 3/3 to 120.3");

    // No fourth: left working, said once.
    await step(30_000);
    await step(300_000);
    await tg.waitForMessage(ADMIN, /f2<\/b>: .* still unfilled after 3 chases: left working at 120\.3/);
    expect(atFake(F2, 'f2')).toMatchObject({ status: 'PENDING', modifications: 3 });
    await app.notifier.drained();
    expect(tg.messages(ADMIN).filter((m) => /left working/.test(m.text ?? ''))).toHaveLength(1);
    // f1: one cancel, nothing placed again; each follower sent exactly its one entry.
    expect(dhan.placeRequests(F1)).toHaveLength(1);
    expect(dhan.placeRequests(F2)).toHaveLength(1);
  });
});
