/**
 * Dhan leader → Dhan follower through the real composition: the real adapters talk HTTP and
 * WebSocket to the fake Dhan, the real bot long-polls the fake Telegram. Counts are taken at the
 * fake broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDhan, type FakeDhan } from '../fakes/dhan.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import type { App } from '../../src/app.js';
import { dhanAccountEnv, dhanEndpointsEnv, startTestApp, TEST_BOT_TOKEN } from './harness.js';

const ADMIN = 111;
const LEADER = '1100000001';
const FOLLOWER = '1100000002';
const NIFTY_CE = '61345'; // NIFTY 26000 CE, lot 75, in the fake's scrip master

describe('Dhan leader → Dhan follower, end to end', () => {
  let dhan: FakeDhan;
  let tg: FakeTelegram;
  let app: App & { logLines: string[] };
  let leaderToken: string;
  let followerToken: string;

  beforeAll(async () => {
    dhan = await startFakeDhan();
    tg = await startFakeTelegram({ token: TEST_BOT_TOKEN });
    leaderToken = dhan.addAccount(LEADER);
    followerToken = dhan.addAccount(FOLLOWER);
    app = await startTestApp({
      TRADING_MODE: 'live',
      TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ADMIN_IDS: String(ADMIN),
      ...dhanAccountEnv('LEADER_', LEADER, leaderToken),
      FOLLOWERS: 'f1',
      ...dhanAccountEnv('FOLLOWER_F1_', FOLLOWER, followerToken),
      FOLLOWER_F1_RATIO: '0.5',
      ...dhanEndpointsEnv(dhan),
    });
    await dhan.waitForLogin(LEADER, { ok: true });
    await dhan.waitForLogin(FOLLOWER, { ok: true });
  });

  afterAll(async () => {
    await app.stop();
    await Promise.all([dhan.close(), tg.close()]);
  });

  it('two lots of a NIFTY option at ratio 0.5 → one lot, placed once, same contract, side and product; a fill alert follows', async () => {
    const leaderOrder = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 150, orderType: 'LIMIT', productType: 'MARGIN', price: 120.5 });
    await tg.waitForMessage(ADMIN, new RegExp(`f1</b> BUY 1 lot \\(75\\) .* placed .* leader ${leaderOrder.orderId}`));
    await app.engine.idle();
    const requests = dhan.placeRequests(FOLLOWER);
    expect(requests).toHaveLength(1);
    const body = requests[0]!.body;
    expect(body).toMatchObject({
      securityId: NIFTY_CE,
      exchangeSegment: 'NSE_FNO',
      transactionType: 'BUY',
      productType: 'MARGIN',
      orderType: 'LIMIT',
      quantity: 75,
      price: 120.5,
    });
    expect(String(body.correlationId)).toMatch(/^[A-Za-z0-9_-]{1,25}$/);
    expect(Object.values(body)).not.toContain('');

    const copy = app.store.copies.forLeaderOrder(leaderOrder.orderId)[0]!;
    expect(copy.followerOrderId).toBeTruthy();
    dhan.fill(copy.followerOrderId!, { price: 120.45 });
    const fill = await tg.waitForMessage(ADMIN, /f1<\/b> filled BUY 1 lot \(75\) .* @ ₹120\.45/);
    expect(fill.text).toContain('NIFTY');
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(1);
    expect(dhan.placeRequests(LEADER)).toHaveLength(0);
  });

  it('a follower whose token dies gets one clear alert naming the account, not a reconnect storm', async () => {
    dhan.expireToken(FOLLOWER);
    dhan.dropSockets(FOLLOWER);
    const alert = await tg.waitForMessage(ADMIN, /f1<\/b>: broker session expired/, 15_000);
    expect(alert.text).toContain('skipped');
    const loginsAfter = dhan.logins(FOLLOWER).length;
    // A new leader order now is skipped for f1 with the reason, never sent.
    const o = dhan.placeAsUser(LEADER, { securityId: NIFTY_CE, exchangeSegment: 'NSE_FNO', transactionType: 'BUY', quantity: 150, orderType: 'LIMIT', productType: 'MARGIN', price: 119 });
    await tg.waitForMessage(ADMIN, new RegExp(`f1</b> skipped BUY .*leader ${o.orderId}.*session has expired`));
    expect(dhan.placeRequests(FOLLOWER)).toHaveLength(1);
    const sessionAlerts = tg.messages(ADMIN).filter((m) => /broker session expired/.test(m.text ?? ''));
    expect(sessionAlerts).toHaveLength(1);
    expect(dhan.logins(FOLLOWER).length - loginsAfter).toBeLessThanOrEqual(1);
    // The token never reaches the chat or the log.
    for (const m of tg.messages(ADMIN)) expect(m.text).not.toContain(followerToken);
    expect(app.logLines.join('')).not.toContain(followerToken);
    expect(app.logLines.join('')).not.toContain(leaderToken);
  });
});
