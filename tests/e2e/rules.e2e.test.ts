/**
 * Each follower's own rules in the copy path and in the chat (issue 17), end to end: a Dhan leader
 * and Dhan followers at the fake Dhan, the real composition, the real bot over the fake Telegram.
 * - f1 copies NFO and BFO only: an NSE equity entry is skipped with the reason (nothing placed at
 *   its broker, the reason stored, in the alert and /orders).
 * - f2 holds in delivery: the leader's INTRADAY buy goes out as CNC, and the leader's INTRADAY sell
 *   sells f2's CNC shares — f2 ends flat in its own product, never short in another.
 * - A rule set from the chat refuses a modify increase while a decrease still applies.
 * - /rules shows, sets (validated like the config), resets; viewers may only look.
 * - COPY_ENTRIES_FROM/UNTIL on a manual clock: an entry outside is skipped, inside it is copied,
 *   and an exit outside it still goes.
 * Counts, products and quantities are read at the fake broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import type { App } from '../../src/app.js';
import { ManualClock } from '../../src/infra/clock.js';
import { IST_OFFSET_MS, istDayStart } from '../../src/domain/time.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';
import { fillWhenWorking, until } from '../chaos/world.js';

const ADMIN = 111;
const VIEWER = 222;
const NIFTY_CE = '61345'; // NIFTY 26000 CE, lot 75
const RELIANCE = '2885'; // NSE equity
const LOT = 75;

type TestApp = App & { logLines: string[] };

const working = (dhan: FakeDhan, clientId: string) => dhan.orders(clientId).filter((o) => /PENDING|TRANSIT|PART_TRADED/.test(o.status));
/** Signed traded quantity of a client per product at the fake, for one security. */
function tradedByProduct(dhan: FakeDhan, clientId: string, securityId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of dhan.orders(clientId)) {
    if (o.securityId !== securityId || o.filledQty === 0) continue;
    out[o.productType] = (out[o.productType] ?? 0) + (o.transactionType === 'BUY' ? o.filledQty : -o.filledQty);
  }
  return out;
}

describe('per-follower rules: segments, product, a chat rule on a modify, /rules', () => {
  const LEADER = '1100001701';
  const F1 = '1100001702';
  const F2 = '1100001703';
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: TestApp;

  beforeAll(async () => {
    dhan = await startFakeDhan();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    const tokens = [LEADER, F1, F2].map((c) => dhan.addAccount(c));
    app = await startTestApp({
      TRADING_MODE: 'live',
      TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ADMIN_IDS: String(ADMIN),
      TELEGRAM_VIEWER_IDS: String(VIEWER),
      ...dhanAccountEnv('LEADER_', LEADER, tokens[0]!),
      FOLLOWERS: 'f1,f2',
      ...dhanAccountEnv('FOLLOWER_F1_', F1, tokens[1]!),
      ...dhanAccountEnv('FOLLOWER_F2_', F2, tokens[2]!),
      FOLLOWER_F1_SEGMENTS: 'NFO,BFO',
      FOLLOWER_F2_PRODUCT: 'delivery',
      ...dhanEndpointsEnv(dhan),
    });
    for (const c of [LEADER, F1, F2]) await dhan.waitForLogin(c, { ok: true });
  });
  afterAll(async () => {
    await app.stop();
    await Promise.all([dhan.close(), tg.close()]);
  });

  it("an equity entry: f1 (NFO, BFO only) is skipped with the reason; f2 (delivery) buys CNC, then sells its CNC on the leader's INTRADAY exit and ends flat", async () => {
    const buy = dhan.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 10, orderType: 'LIMIT', price: 1400, productType: 'INTRADAY' });
    await until(() => working(dhan, F2).length === 1, "f2's entry working", 5000);
    await app.engine.idle();
    const f1Copy = app.store.copies.forLeaderOrder(buy.orderId).find((c) => c.followerId === 'f1')!;
    expect(f1Copy).toMatchObject({ state: 'skipped', reason: 'NFO, BFO only', kind: 'entry' });
    expect(dhan.placeRequests(F1)).toHaveLength(0);
    // f2's entry: the leader's INTRADAY, as CNC by its rule.
    expect(dhan.placeRequests(F2).map((r) => [r.body.transactionType, r.body.quantity, r.body.productType])).toEqual([['BUY', 10, 'CNC']]);
    // The reason in the leader order's message and in /orders.
    await tg.waitForMessage(ADMIN, /<b>f1<\/b> skipped BUY RELIANCE[\s\S]*NFO, BFO only/);
    tg.sendText(ADMIN, '/orders');
    await tg.waitForMessage(ADMIN, /f1 entry BUY RELIANCE: NFO, BFO only/);

    dhan.fill(buy.orderId, { price: 1400 });
    await fillWhenWorking(dhan, F2, working(dhan, F2)[0]!.orderId, 1400);
    await until(() => app.store.copies.forLeaderOrder(buy.orderId).find((c) => c.followerId === 'f2')?.state === 'filled', "f2's entry filled", 5000);

    const sell = dhan.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'SELL', quantity: 10, orderType: 'LIMIT', price: 1410, productType: 'INTRADAY' });
    await until(() => working(dhan, F2).length === 1, "f2's exit working", 5000);
    await app.engine.idle();
    const exit = app.store.copies.forLeaderOrder(sell.orderId).find((c) => c.followerId === 'f2')!;
    expect(exit).toMatchObject({ kind: 'exit', product: 'CNC', plannedQty: 10, side: 'SELL' });
    expect(exit.reason).toContain('f2 holds 10 (10 CNC)');
    // f1 holds nothing: its exit is skipped quietly, nothing sent.
    expect(app.store.copies.forLeaderOrder(sell.orderId).find((c) => c.followerId === 'f1')).toMatchObject({ state: 'skipped' });
    expect(dhan.placeRequests(F1)).toHaveLength(0);

    dhan.fill(sell.orderId, { price: 1410 });
    await fillWhenWorking(dhan, F2, exit.followerOrderId!, 1410);
    await until(() => app.store.copies.get(exit.id)?.state === 'filled', "f2's exit filled", 5000);
    // At the broker: f2 bought and sold 10 CNC, nothing in another product: flat, never short.
    expect(dhan.placeRequests(F2).map((r) => [r.body.transactionType, r.body.quantity, r.body.productType])).toEqual([
      ['BUY', 10, 'CNC'],
      ['SELL', 10, 'CNC'],
    ]);
    expect(tradedByProduct(dhan, F2, RELIANCE)).toEqual({ CNC: 0 });
    expect(app.drift.scan().items.filter((i) => i.followerId === 'f2')).toEqual([]);
  });

  it("the leader exits while f2's CNC entry of its INTRADAY buy is unfilled → that entry is cancelled first and nothing is sold: never short", async () => {
    const sentBefore = dhan.placeRequests(F2).length;
    const buy = dhan.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'BUY', quantity: 5, orderType: 'LIMIT', price: 1400, productType: 'INTRADAY' });
    await until(() => working(dhan, F2).length === 1, "f2's entry working", 5000);
    const entry = working(dhan, F2)[0]!;
    expect(entry.productType).toBe('CNC');
    dhan.fill(buy.orderId, { price: 1400 });
    await until(() => app.store.leader.get(buy.orderId)?.status === 'filled', 'the leader entry booked', 5000);

    const sell = dhan.placeAsUser(LEADER, { securityId: RELIANCE, exchangeSegment: 'NSE_EQ', transactionType: 'SELL', quantity: 5, orderType: 'LIMIT', price: 1405, productType: 'INTRADAY' });
    await until(() => app.store.copies.forLeaderOrder(sell.orderId).find((c) => c.followerId === 'f2')?.state === 'skipped', "f2's exit decided after the cancel", 5000);
    await app.engine.idle();
    expect(dhan.orders(F2).find((x) => x.orderId === entry.orderId)?.status).toBe('CANCELLED');
    expect(app.store.copies.forLeaderOrder(sell.orderId).find((c) => c.followerId === 'f2')!.reason).toMatch(/follower holds no position to exit \(after cancelling 1 unfilled entry: f2 holds 0\)/);
    // Only the entry was ever sent; nothing traded in any product.
    expect(dhan.placeRequests(F2).length).toBe(sentBefore + 1);
    expect(Object.values(tradedByProduct(dhan, F2, RELIANCE)).every((q) => q === 0)).toBe(true);
    dhan.fill(sell.orderId, { price: 1405 });
  });

  it('/rules: a viewer sees every rule and its source; a bad value is refused with what is valid; set and reset, audit-logged', async () => {
    tg.sendText(VIEWER, '/rules f1');
    const shown = await tg.waitForMessage(VIEWER, /Rules of f1/);
    expect(shown.text).toContain('segments: <b>NFO,BFO</b> (env)');
    expect(shown.text).toContain('product: <b>same</b> (env)');
    expect(shown.text).toContain('Entry window: all day');
    expect(shown.text).toContain('Loss limit today: none set');

    tg.sendText(VIEWER, '/rules f1 segments NFO');
    await tg.waitForMessage(VIEWER, 'Changing a rule needs the admin role');

    tg.sendText(ADMIN, '/rules f1 segments NFO,XYZ');
    await tg.waitForMessage(ADMIN, 'segments “NFO,XYZ” is invalid: a comma list of NSE_EQ, BSE_EQ, NFO, BFO, MCX, CDS (or all). Not changed.');
    expect(app.engine.rules.get('f1').segments).toEqual(['NFO', 'BFO']);

    tg.sendText(ADMIN, '/rules f1 segments NFO');
    await tg.waitForMessage(ADMIN, /f1 segments: NFO,BFO → <b>NFO<\/b> \(set from the chat/);
    expect(app.engine.rules.get('f1').segments).toEqual(['NFO']);
    tg.sendText(ADMIN, '/rules f1');
    await tg.waitForMessage(ADMIN, /Rules of f1[\s\S]*segments: <b>NFO<\/b> \(chat\)/);

    tg.sendText(ADMIN, '/rules f1 segments reset');
    await tg.waitForMessage(ADMIN, /f1 segments: NFO → <b>NFO,BFO<\/b> \(back to the env value\)/);
    expect(app.engine.rules.get('f1').segments).toEqual(['NFO', 'BFO']);
    expect(app.engine.rules.source('f1', 'segments')).toBe('env');

    tg.sendText(VIEWER, '/help');
    await tg.waitForMessage(VIEWER, /tandem commands[\s\S]*\/rules \[id\] \[rule value\|reset\]/);

    tg.sendText(ADMIN, '/rules f9');
    await tg.waitForMessage(ADMIN, 'Unknown follower “f9”. Valid: f1, f2.');
    tg.sendText(ADMIN, '/rules f1 colour red');
    await tg.waitForMessage(ADMIN, /Unknown rule “colour”. Rules: segments, symbols, exclude_symbols, product, max_open_positions/);

    const audit = app.store.audit.recent(20).filter((a) => a.action === '/rules').map((a) => [a.actorId, a.args, a.outcome]);
    expect(audit).toEqual(
      expect.arrayContaining([
        [ADMIN, 'f1 segments NFO', 'f1 segments: NFO,BFO -> NFO'],
        [ADMIN, 'f1 segments reset', 'f1 segments: NFO -> NFO,BFO (reset to env)'],
        [ADMIN, 'f1 segments NFO,XYZ', 'f1 segments NFO,XYZ: invalid'],
        [VIEWER, 'f1 segments NFO', 'denied: viewer'],
      ]),
    );
  });

  it('a rule set from the chat refuses a modify increase; a decrease still applies', async () => {
    const o = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 2 * LOT, orderType: 'LIMIT', price: 100, productType: 'MARGIN' });
    await until(() => working(dhan, F1).length === 1 && working(dhan, F2).length === 1, 'both copies working', 5000);
    // f2 holds in delivery, but a derivative keeps the leader's product.
    expect(working(dhan, F2)[0]).toMatchObject({ productType: 'MARGIN', quantity: 2 * LOT });

    tg.sendText(ADMIN, '/rules f1 exclude_symbols NIFTY');
    await tg.waitForMessage(ADMIN, /f1 exclude_symbols: none → <b>NIFTY<\/b>/);

    dhan.modifyAsUser(o.orderId, { quantity: 4 * LOT });
    await until(() => working(dhan, F2)[0]?.quantity === 4 * LOT, "f2's copy raised to 4 lots", 5000);
    await app.engine.idle();
    expect(working(dhan, F1)[0]!.quantity).toBe(2 * LOT);
    expect(app.logLines.join('')).toMatch(/not increased: NIFTY is excluded/);

    dhan.modifyAsUser(o.orderId, { quantity: LOT });
    await until(() => working(dhan, F1)[0]?.quantity === LOT && working(dhan, F2)[0]?.quantity === LOT, 'both copies cut to 1 lot', 5000);

    dhan.cancelAsUser(o.orderId);
    await until(() => working(dhan, F1).length === 0 && working(dhan, F2).length === 0, 'copies cancelled', 5000);
    tg.sendText(ADMIN, '/rules f1 exclude_symbols reset');
    await tg.waitForMessage(ADMIN, /f1 exclude_symbols: NIFTY → <b>none<\/b>/);
  });
});

/** A Dhan leader and follower f1, with the bot, on a manual clock; `extra` adds to the env. */
async function startClockWorld(leader: string, f1: string, extra: Record<string, string>, clock: ManualClock): Promise<{ dhan: FakeDhan; tg: FakeTelegram; app: TestApp }> {
  const dhan = await startFakeDhan();
  const tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
  const [lt, ft] = [dhan.addAccount(leader), dhan.addAccount(f1)];
  const app = await startTestApp(
    {
      TRADING_MODE: 'live',
      TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ADMIN_IDS: String(ADMIN),
      ...dhanAccountEnv('LEADER_', leader, lt),
      FOLLOWERS: 'f1',
      ...dhanAccountEnv('FOLLOWER_F1_', f1, ft),
      ...dhanEndpointsEnv(dhan),
      ...extra,
    },
    { clock },
  );
  for (const c of [leader, f1]) await dhan.waitForLogin(c, { ok: true });
  return { dhan, tg, app };
}

describe('COPY_ENTRIES_FROM / COPY_ENTRIES_UNTIL on a manual clock', () => {
  const LEADER = '1100001711';
  const F1 = '1100001712';
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: TestApp;
  const clock = new ManualClock(Date.now());
  // A 20-minute window starting 20 minutes from now (or, late in the IST day, ending 20 minutes ago).
  const MIN = 60_000;
  const minute = Math.floor((clock.now() - istDayStart(clock.now())) / MIN);
  const ahead = minute + 40 < 24 * 60;
  const hhmm = (m: number) => new Date(istDayStart(clock.now()) + IST_OFFSET_MS + m * MIN).toISOString().slice(11, 16);
  const [from, until_] = ahead ? [minute + 20, minute + 40] : [minute - 40, minute - 20];
  const inside = clock.now() + (ahead ? 30 : -30) * MIN;
  const outside = clock.now();

  beforeAll(async () => {
    ({ dhan, tg, app } = await startClockWorld(LEADER, F1, { COPY_ENTRIES_FROM: hhmm(from), COPY_ENTRIES_UNTIL: hhmm(until_) }, clock));
  });
  afterAll(async () => {
    await app.stop();
    await Promise.all([dhan.close(), tg.close()]);
  });

  it('an entry outside the window is skipped with the reason; inside it is copied; an exit outside it still goes', async () => {
    const early = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: LOT, orderType: 'LIMIT', price: 100, productType: 'MARGIN' });
    await until(() => app.store.copies.forLeaderOrder(early.orderId).length === 1, 'the copy decided', 5000);
    const [skipped] = app.store.copies.forLeaderOrder(early.orderId);
    expect(skipped).toMatchObject({ state: 'skipped', reason: `outside the entry window (${hhmm(from)}–${hhmm(until_)} IST; now ${hhmm(minute)})` });
    dhan.cancelAsUser(early.orderId);

    clock.set(inside);
    const buy = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: LOT, orderType: 'LIMIT', price: 100, productType: 'MARGIN' });
    await until(() => working(dhan, F1).length === 1, 'the copy working', 5000);
    dhan.fill(buy.orderId, { price: 100 });
    await fillWhenWorking(dhan, F1, working(dhan, F1)[0]!.orderId, 100);
    await until(() => app.store.copies.forLeaderOrder(buy.orderId)[0]?.state === 'filled', 'the copy filled', 5000);

    clock.set(outside);
    const sell = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'SELL', quantity: LOT, orderType: 'LIMIT', price: 101, productType: 'MARGIN' });
    await until(() => working(dhan, F1).length === 1, 'the exit working', 5000);
    expect(dhan.placeRequests(F1).map((r) => [r.body.transactionType, r.body.quantity])).toEqual([
      ['BUY', LOT],
      ['SELL', LOT],
    ]);
    // The order is at the fake before tandem has recorded its acknowledgement: wait for the record.
    await until(() => app.store.copies.forLeaderOrder(sell.orderId)[0]?.state === 'open', 'the exit copy recorded open', 5000);
    expect(app.store.copies.forLeaderOrder(sell.orderId)[0]).toMatchObject({ kind: 'exit', state: 'open' });
  });
});

describe("/rules <id>: today's loss-limit headroom in ₹ and the mark's age, on a manual clock", () => {
  const LEADER = '1100001721';
  const F1 = '1100001722';
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: TestApp;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    ({ dhan, tg, app } = await startClockWorld(LEADER, F1, { FOLLOWER_F1_MAX_DAILY_LOSS_INR: '125000' }, clock));
    // The bot drops updates pending at its start: the first command is sent once it polls.
    await tg.waitFor((c) => c.method === 'getUpdates');
  });
  afterAll(async () => {
    await app.stop();
    await Promise.all([dhan.close(), tg.close()]);
  });

  /** The next /rules answer in the admin chat (not an earlier one that also matches). */
  async function rulesOf(id: string): Promise<string> {
    const before = tg.messages(ADMIN).length;
    tg.sendText(ADMIN, `/rules ${id}`);
    await until(() => tg.messages(ADMIN).slice(before).some((m) => /Rules of /.test(m.text ?? '')), `the /rules ${id} answer`, 5000);
    return tg.messages(ADMIN).slice(before).find((m) => /Rules of /.test(m.text ?? ''))!.text!;
  }

  it('no fill yet: the whole limit is headroom, no mark; after f1 buys 2 lots at 120 and 1 at 50 (marked at 50, −₹10,500), the headroom is ₹1,14,500 and the mark 42 s old', async () => {
    expect(await rulesOf('f1')).toContain('Loss limit today: limit ₹1,25,000 · P&amp;L ₹0 · headroom ₹1,25,000 · no price mark yet');

    const first = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 2 * LOT, orderType: 'LIMIT', price: 120, productType: 'MARGIN' });
    await until(() => app.store.copies.forLeaderOrder(first.orderId)[0]?.state === 'open', 'the first entry copy working', 5000);
    dhan.fill(first.orderId, { price: 120 });
    await fillWhenWorking(dhan, F1, app.store.copies.forLeaderOrder(first.orderId)[0]!.followerOrderId!, 120);
    await until(() => app.store.copies.forLeaderOrder(first.orderId)[0]?.state === 'filled', 'the first entry copy filled', 5000);
    // Only the follower's copy of the second order fills: its fill at 50 is the last price seen.
    const second = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: LOT, orderType: 'LIMIT', price: 50, productType: 'MARGIN' });
    await until(() => app.store.copies.forLeaderOrder(second.orderId)[0]?.state === 'open', 'the second entry copy working', 5000);
    await fillWhenWorking(dhan, F1, app.store.copies.forLeaderOrder(second.orderId)[0]!.followerOrderId!, 50);
    await until(() => app.store.copies.forLeaderOrder(second.orderId)[0]?.state === 'filled', 'the second entry copy filled', 5000);
    await app.engine.idle();
    expect(dhan.orders(F1).filter((o) => o.status === 'TRADED').map((o) => [o.quantity, o.price])).toEqual([
      [2 * LOT, 120],
      [LOT, 50],
    ]);

    clock.advance(42_000);
    const text = await rulesOf('f1');
    expect(text).toContain('Loss limit today: limit ₹1,25,000 · P&amp;L -₹10,500 · headroom ₹1,14,500 · mark 42s old');
    expect(text).not.toContain('Entries stopped');
  });
});
