/**
 * The drift watch over the real bot, real Dhan adapters and the fake Dhan: a follower that differs
 * from the scaled leader gets ONE alert per instrument (not one per check), with a Sync button that
 * takes two taps and brings the follower to the target — reductions even while paused, entries
 * never while paused. Counts are taken at the fake broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import type { App } from '../../src/app.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';
import { until } from '../chaos/world.js';

const ADMIN = 111;
const LEADER = '1500000001';
const FOLLOWER = '1500000002';
const NIFTY_CE = '61345'; // lot 75
const NIFTY_PE = '61346'; // lot 75
const NIFTY_26100_CE = '61347'; // lot 75

describe('drift watch', () => {
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

  const netAtFake = async (securityId: string) => (await app.engine.followers.get('f1')!.broker.positions()).find((p) => p.instrument.securityId === securityId)?.netQty ?? 0;
  const driftAlerts = () => tg.messages(ADMIN).filter((m) => /DRIFT<\/b>/.test(m.text ?? ''));
  const working = (pred: (o: ReturnType<FakeDhan['orders']>[number]) => boolean) => dhan.orders(FOLLOWER).filter((o) => pred(o) && o.status === 'PENDING');

  it('a rejected copy: one alert however often it is checked; two taps on Sync buy the missing lots', async () => {
    const o = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 150, orderType: 'LIMIT', productType: 'MARGIN', price: 120 });
    await until(() => working((x) => x.securityId === NIFTY_CE).length === 1, 'copy working');
    const copyOrder = working((x) => x.securityId === NIFTY_CE)[0]!;
    dhan.reject(copyOrder.orderId, 'RMS: insufficient margin');
    dhan.fill(o.orderId, { price: 120 });
    await until(() => app.store.copies.forLeaderOrder(o.orderId)[0]?.state === 'rejected', 'copy rejected');
    await until(() => app.drift.scan().items.length === 1, 'drift seen');

    expect(app.drift.check()).toHaveLength(1);
    const alert = await tg.waitForMessage(ADMIN, /DRIFT<\/b>/);
    expect(alert.text).toMatch(/f1<\/b> NIFTY-Dec2026-26000-CE MARGIN: leader LONG 2 lots \(150\) → target LONG 2 lots \(150\); f1 holds flat/);
    // Checked again (every minute in the session): the same drift is not alerted again.
    expect(app.drift.check()).toHaveLength(0);
    expect(app.drift.check()).toHaveLength(0);
    await app.notifier.drained();
    expect(driftAlerts()).toHaveLength(1);

    tg.sendText(ADMIN, '/status');
    const status = await tg.waitForMessage(ADMIN, /Drift: 1 instrument/);
    expect(status.text).toContain('/drift');

    const placed = dhan.placeRequests(FOLLOWER).length;
    tg.click(ADMIN, alert, tg.buttonData(alert, 'Sync'));
    const plan = await tg.waitForMessage(ADMIN, /Sync<\/b> · /);
    expect(plan.text).toMatch(/add: BUY 2 lots \(150\) NIFTY-Dec2026-26000-CE MKT/);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(placed); // the first tap only shows
    tg.click(ADMIN, plan, tg.buttonData(plan, 'Yes, place 1 order'));
    await tg.waitForMessage(ADMIN, /Sync sent by 111/);
    await app.engine.idle();
    const syncReqs = dhan.placeRequests(FOLLOWER).slice(placed);
    expect(syncReqs.map((r) => [r.body.transactionType, r.body.orderType, Number(r.body.quantity)])).toEqual([['BUY', 'MARKET', 150]]);
    // A late second tap on the same confirm places nothing more.
    tg.click(ADMIN, plan, tg.buttonData(plan, 'Yes'));
    await tg.waitFor((c) => c.method === 'answerCallbackQuery' && /sync request is gone/.test(String(c.payload.text)));

    await until(() => working((x) => x.orderType === 'MARKET').length === 1, 'sync order working');
    dhan.fill(working((x) => x.orderType === 'MARKET')[0]!.orderId, { price: 121 });
    await until(async () => (await netAtFake(NIFTY_CE)) === 150, 'follower long 2 lots at the broker');
    await until(() => app.drift.scan().items.length === 0, 'drift gone');
    expect(app.drift.check()).toHaveLength(0);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(placed + 1);
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(2); // the rejected copy and the sync
  });

  it('while paused: a position the leader does not hold is reduced by Sync; a missing entry is not placed, and the message says why', async () => {
    tg.sendText(ADMIN, '/pause f1');
    await tg.waitForMessage(ADMIN, /Paused entries for <b>f1/);

    // Bought by hand at the follower's broker: the leader holds none of it.
    const manual = dhan.placeAsUser(FOLLOWER, { securityId: NIFTY_PE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price: 90 });
    await until(() => working((x) => x.orderId === manual.orderId).length === 1, 'manual order working');
    dhan.fill(manual.orderId, { price: 90 });
    // The leader opens a position the paused follower does not copy.
    const lo = dhan.placeAsUser(LEADER, { securityId: NIFTY_26100_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 75, orderType: 'LIMIT', productType: 'MARGIN', price: 80 });
    await until(() => dhan.orders(LEADER).find((x) => x.orderId === lo.orderId)?.status === 'PENDING', 'leader order working');
    dhan.fill(lo.orderId, { price: 80 });
    await until(() => app.drift.scan().items.length === 2, 'two drifts');

    const fresh = app.drift.check();
    expect(fresh.map((i) => i.instrument.securityId).sort()).toEqual([NIFTY_PE, NIFTY_26100_CE]);
    await tg.waitForMessage(ADMIN, /DRIFT<\/b> · <b>f1<\/b> NIFTY-Dec2026-26100-CE/);
    const pe = await tg.waitForMessage(ADMIN, /DRIFT<\/b> · <b>f1<\/b> NIFTY-Dec2026-26000-PE/);
    expect(pe.text).toMatch(/leader flat → target flat; f1 holds LONG 1 lot \(75\)/);

    tg.sendText(ADMIN, '/drift');
    const list = await tg.waitForMessage(ADMIN, /<b>Drift<\/b> \(2\)/);

    // The missing entry: not placed while paused, and nothing to confirm.
    const placed = dhan.placeRequests(FOLLOWER).length;
    tg.click(ADMIN, list, tg.buttonData(list, 'Sync f1 NIFTY-Dec2026-26100-CE'));
    const blocked = await tg.waitForMessage(ADMIN, /Nothing can be placed now/);
    expect(blocked.text).toMatch(/not placed: f1 is paused/);
    expect(() => tg.buttonData(blocked, 'Yes')).toThrow();

    // The reduction goes out although f1 is paused.
    tg.click(ADMIN, list, tg.buttonData(list, 'Sync f1 NIFTY-Dec2026-26000-PE'));
    const plan = await tg.waitForMessage(ADMIN, /reduce: SELL 1 lot \(75\) NIFTY-Dec2026-26000-PE MKT/);
    tg.click(ADMIN, plan, tg.buttonData(plan, 'Yes, place 1 order'));
    await tg.waitForMessage(ADMIN, /Sync sent by 111/);
    await until(() => working((x) => x.orderType === 'MARKET' && x.securityId === NIFTY_PE).length === 1, 'sync order working');
    dhan.fill(working((x) => x.orderType === 'MARKET' && x.securityId === NIFTY_PE)[0]!.orderId, { price: 91 });
    await until(async () => (await netAtFake(NIFTY_PE)) === 0, 'follower flat in the PE at the broker');
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(placed + 1);
    expect(await netAtFake(NIFTY_26100_CE)).toBe(0);
    await until(() => app.drift.scan().items.length === 1, 'only the paused entry drifts');
    expect(app.drift.check()).toHaveLength(0); // still the same drift: not alerted again
  });

  it('/help lists /drift', async () => {
    tg.sendText(ADMIN, '/help');
    const help = await tg.waitForMessage(ADMIN, /tandem commands/);
    expect(help.text).toContain('/drift');
  });
});
